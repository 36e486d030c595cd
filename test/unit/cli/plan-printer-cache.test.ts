// The plan's text with a shared store's step cache: a restored step's mark and verdict,
// the download line under a step whose outputs a running step reads, the summary's counts.
import { describe, expect, test } from '@jest/globals';
import { formatPlan } from '../../../src/cli/output/plan-printer.js';
import type { PlanDocument, PlanStepJson } from '../../../src/plan/plan-document.js';
import type { StepId } from '../../../src/plan/step.js';

const step = (over: Partial<PlanStepJson> & Pick<PlanStepJson, 'id'>): PlanStepJson => ({
  kind: over.id,
  needs: [],
  verdict: 'up-to-date',
  cause: 'up-to-date',
  reasons: ['up to date'],
  changes: [],
  fingerprint: 'f'.repeat(64),
  summary: `do ${over.id}`,
  commands: [`tool ${over.id}`],
  effects: [],
  notes: [],
  ...over,
});

const doc: PlanDocument = {
  planFormat: 1,
  tool: { name: 'emi-recipe', version: '0.1.0' },
  recipe: { name: 'demo', path: '/r/demo.yaml' },
  workDir: '/w',
  store: { url: 's3://b/ci/demo/state.json', locking: true },
  host: { accel: 'kvm', isRoot: true },
  steps: [
    step({
      id: 'install-os',
      cause: 'up-to-date-elsewhere',
      reasons: ['up to date in the store; outputs not in this work directory'],
      download: {
        artifacts: [{ name: 'disk', file: 'disk.raw', size: 2 * 1024 ** 3 }],
        bytes: 2 * 1024 ** 3,
        readBy: ['customize' as StepId],
      },
    }),
    step({
      id: 'customize',
      verdict: 'run',
      cause: 'changed',
      reasons: ['setting packages: ["less"] → ["less","curl"]'],
    }),
    step({
      id: 'extract-kernel',
      verdict: 'run',
      cause: 'restore',
      reasons: ['restore from the cache (made by recipe other)', 'never run'],
    }),
  ],
  effects: [],
  summary: {
    run: 2,
    upToDate: 1,
    blocked: 0,
    register: [],
    restore: 1,
    download: { files: 1, bytes: 2 * 1024 ** 3 },
  },
  basis: { recipeSha256: '0'.repeat(64), stateDigest: '0'.repeat(64), inputs: {} },
};

describe('the plan text with a step cache', () => {
  test('restore, download and the summary', () => {
    const text = formatPlan(doc, { commands: true, color: false });
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.includes('install-os'));
    expect(lines.slice(from, from + 8)).toEqual([
      '  = install-os      up to date  up to date in the store; outputs not in this work directory',
      '                                download 2 GiB from the step cache (disk.raw): customize reads them',
      '  ~ customize       run         setting packages: ["less"] → ["less","curl"]',
      '                    do customize',
      '                    $ tool customize',
      '  < extract-kernel  restore     restore from the cache (made by recipe other)',
      '                                never run',
      '',
    ]);
    expect(text).toContain(
      'Plan: 2 to run (1 restored from the step cache), 1 up to date, download 2 GiB (1 file)',
    );
  });
});
