// The planner's decisions and reasons, on a small graph with hand-made facts.
import { describe, expect, test } from '@jest/globals';
import { buildGraph } from '../../../src/plan/graph.js';
import {
  diffComponents,
  describeChange,
  fingerprintOf,
  type FingerprintComponents,
} from '../../../src/plan/fingerprint.js';
import type { PlanFacts, RecordedStep } from '../../../src/plan/plan.js';
import { planSteps } from '../../../src/plan/plan-steps.js';
import type { StepId, StepKind, StepSpec } from '../../../src/plan/step.js';
import { bindByKindName } from '../../helpers/fake-kinds.js';
import { planWithCache } from '../../../src/run/plan-cache.js';
import type { StepCache } from '../../../src/run/step-cache.js';

const id = (s: string) => s as StepId;
const steps: StepSpec[] = [
  {
    id: id('a'),
    kind: 'k',
    needs: [],
    section: [],
    params: { size: 1 },
    inputs: [{ name: 'iso', path: '/in/iso' }],
  },
  {
    id: id('b'),
    kind: 'k',
    needs: [id('a')],
    section: [],
    params: { packages: ['less'] },
    inputs: [],
  },
  { id: id('c'), kind: 'k', needs: [id('b')], section: [], params: {}, inputs: [] },
  { id: id('d'), kind: 'other', needs: [id('a')], section: [], params: {}, inputs: [] },
];
const graph = buildGraph({
  steps,
  locate: () => ({
    file: 'x',
    range: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } },
  }),
}).graph!;
const kind: StepKind = {
  kind: 'k',
  tools: ['qemu-img'],
  describe: (step) => ({
    summary: `do ${step.id}`,
    commands: [`tool ${step.id}`],
    effects: [],
    notes: [],
  }),
  run: () => Promise.reject(new Error('the planner never runs a step')),
};

/** Records as a complete earlier run with the given params would have left them. */
function completedRecords(params: Record<string, unknown> = {}): Record<string, RecordedStep> {
  const records: Record<string, RecordedStep> = {};
  for (const step of graph.steps) {
    const components: FingerprintComponents = {
      kind: step.kind,
      params: (params[step.id] ?? step.params) as FingerprintComponents['params'],
      inputs: Object.fromEntries(step.inputs.map((i) => [i.name, 'sha-iso'])),
      upstream: Object.fromEntries(step.needs.map((n) => [n, `out-${n}`])),
      tools: step.kind === 'k' ? { 'qemu-img': '8.0' } : {},
    };
    records[step.id] = {
      fingerprint: fingerprintOf(components),
      components,
      outputDigest: `out-${step.id}`,
    };
  }
  return records;
}

function facts(overrides: Partial<PlanFacts> = {}): PlanFacts {
  return {
    graph,
    records: {},
    inputDigests: new Map([['/in/iso', 'sha-iso']]),
    toolVersions: new Map([['qemu-img', '8.0']]),
    artifactProblems: new Map(),
    interrupted: new Set(),
    kinds: bindByKindName(
      graph.steps,
      new Map([
        ['k', kind],
        ['other', { ...kind, kind: 'other', tools: [] }],
      ]),
    ),
    host: { accel: 'tcg', isRoot: true },
    packageOf: (tool) => (tool === 'qemu-img' ? 'qemu-utils' : undefined),
    ...overrides,
  };
}

const verdicts = (f: PlanFacts) =>
  Object.fromEntries(planSteps(f).decisions.map((d) => [d.id, `${d.verdict}:${d.cause}`]));

describe('planSteps', () => {
  test('nothing recorded: everything runs, never run', () => {
    expect(verdicts(facts())).toEqual({
      a: 'run:never-run',
      b: 'run:never-run',
      c: 'run:never-run',
      d: 'run:never-run',
    });
  });

  test('a completed run is up to date', () => {
    const plan = planSteps(facts({ records: completedRecords() }));
    expect(plan.counts).toEqual({ run: 0, upToDate: 4, blocked: 0 });
  });

  test('a changed setting re-runs that step and exactly its downstream, saying what changed', () => {
    const f = facts({ records: completedRecords({ b: { packages: ['less', 'curl'] } }) });
    expect(verdicts(f)).toEqual({
      a: 'up-to-date:up-to-date',
      b: 'run:changed',
      c: 'run:upstream-changed',
      d: 'up-to-date:up-to-date',
    });
    const b = planSteps(f).decisions.find((d) => d.id === 'b');
    expect(b?.reasons).toEqual(['setting packages: ["less","curl"] → ["less"]']);
  });

  test('a changed input file re-runs its step', () => {
    const f = facts({
      records: completedRecords(),
      inputDigests: new Map([['/in/iso', 'sha-new']]),
    });
    const a = planSteps(f).decisions.find((d) => d.id === 'a');
    expect(a).toMatchObject({
      verdict: 'run',
      cause: 'changed',
      reasons: ['input iso changed (content)'],
    });
    expect(verdicts(f).d).toBe('run:upstream-changed');
  });

  test('a new tool version re-runs the steps that use it', () => {
    const f = facts({ records: completedRecords(), toolVersions: new Map([['qemu-img', '9.1']]) });
    expect(planSteps(f).decisions.find((d) => d.id === 'a')?.reasons).toEqual([
      'tool qemu-img: 8.0 → 9.1',
    ]);
    expect(verdicts(f).d).toBe('run:upstream-changed');
  });

  test('missing or modified outputs re-run the step', () => {
    const f = facts({
      records: completedRecords(),
      artifactProblems: new Map([['c', 'artifact out (out.txt) is missing']]),
    });
    expect(verdicts(f)).toMatchObject({ a: 'up-to-date:up-to-date', c: 'run:outputs-changed' });
  });

  test('a missing tool or input blocks the step and what needs it, with the package to install', () => {
    const f = facts({ toolVersions: new Map(), inputDigests: new Map() });
    const plan = planSteps(f);
    expect(plan.decisions.find((d) => d.id === 'a')?.reasons).toEqual([
      'qemu-img is not installed (apt-get install qemu-utils)',
      'input iso not found: /in/iso',
    ]);
    expect(verdicts(f)).toMatchObject({ a: 'blocked:blocked', d: 'blocked:blocked' });
  });

  test('an interrupted step says so', () => {
    expect(verdicts(facts({ interrupted: new Set(['a']) })).a).toBe('run:interrupted');
  });

  test('plans show the commands of each step', () => {
    expect(planSteps(facts()).decisions[0]?.description.commands).toEqual(['tool a']);
  });
});

describe('fingerprints', () => {
  const c: FingerprintComponents = {
    kind: 'k',
    params: { b: 1, a: [1, 2] },
    inputs: { x: 's' },
    upstream: {},
    tools: {},
  };

  test('do not depend on key order', () => {
    expect(fingerprintOf(c)).toBe(fingerprintOf({ ...c, params: { a: [1, 2], b: 1 } }));
    expect(fingerprintOf(c)).not.toBe(fingerprintOf({ ...c, params: { a: [2, 1], b: 1 } }));
  });

  test('diffs name the changed leaf', () => {
    const old: FingerprintComponents = { ...c, params: { users: [{ name: 'a', groups: ['x'] }] } };
    const now: FingerprintComponents = {
      ...c,
      params: { users: [{ name: 'a', groups: ['x', 'sudo'] }] },
    };
    expect(diffComponents(old, now).map(describeChange)).toEqual([
      'setting users[0].groups: ["x"] → ["x","sudo"]',
    ]);
  });
});

describe('volatile params', () => {
  test('are left out of the fingerprint: changing them does not re-run the step', () => {
    const volatileKind: StepKind = { ...kind, volatileParams: ['timeoutMs'] };
    const base = facts({
      kinds: bindByKindName(
        graph.steps,
        new Map([
          ['k', volatileKind],
          ['other', { ...kind, kind: 'other', tools: [] }],
        ]),
      ),
    });
    const first = planSteps(base).decisions.find((d) => d.id === 'a');
    const stepsWithTimeout = graph.steps.map((s) =>
      s.id === 'a' ? { ...s, params: { size: 1, timeoutMs: 99 } } : s,
    );
    const changed = planSteps({
      ...base,
      graph: { ...graph, steps: stepsWithTimeout },
    }).decisions.find((d) => d.id === 'a');
    expect(changed?.fingerprint).toBe(first?.fingerprint);
  });
});

describe('planSteps: a state shared through a store, files elsewhere', () => {
  test('steps recorded elsewhere are up to date, saying their outputs are not here', () => {
    const plan = planSteps(
      facts({ records: completedRecords(), elsewhere: new Set(['a', 'b', 'c', 'd']) }),
    );
    expect(plan.counts).toEqual({ run: 0, upToDate: 4, blocked: 0 });
    expect(plan.decisions.map((d) => `${d.id}:${d.cause}:${d.reasons.join('')}`)).toContain(
      'a:up-to-date-elsewhere:up to date in the store; outputs not in this work directory',
    );
  });

  test('a step whose files a running step needs runs again, and so does what is between', () => {
    // c changed: it runs and needs b's files, which are elsewhere; b then runs, and needs
    // a's files, so a runs too; below a running step, b and d show as "upstream changed"
    // (the planner's rule; at run time, d is skipped if a's outputs come out the same).
    const f = facts({
      records: completedRecords({ c: { changed: true } }),
      elsewhere: new Set(['a', 'b', 'd']),
    });
    const plan = planSteps(f);
    expect(
      Object.fromEntries(plan.decisions.map((d) => [d.id, `${d.verdict}:${d.cause}`])),
    ).toEqual({
      a: 'run:outputs-changed',
      b: 'run:upstream-changed',
      c: 'run:upstream-changed',
      d: 'run:upstream-changed',
    });
    expect(plan.decisions.find((d) => d.id === 'a')?.reasons).toEqual([
      'up to date in the store, but its outputs are not in this work directory and b needs them: runs again here',
    ]);
    // The runner decides with the facts the plan ended with: what the plan runs is no longer
    // elsewhere, so that an unchanged upstream output cannot make the runner skip b (whose
    // files c needs) or d.
    expect([...(plan.facts.elsewhere ?? [])]).toEqual([]);
    expect([...plan.facts.artifactProblems.keys()].sort()).toEqual(['a', 'b', 'd']);
    expect(plan.facts.artifactProblems.has('a')).toBe(true);
  });

  test('a step whose files nothing that runs needs stays up to date elsewhere', () => {
    const f = facts({
      records: completedRecords({ d: { changed: true } }),
      elsewhere: new Set(['b', 'c']),
    });
    expect(verdicts(f)).toEqual({
      a: 'up-to-date:up-to-date',
      b: 'up-to-date:up-to-date-elsewhere',
      c: 'up-to-date:up-to-date-elsewhere',
      d: 'run:changed',
    });
  });
});

describe('planSteps with a step cache (a shared store)', () => {
  const done = completedRecords();
  const entry = (step: string, files: Record<string, number> = { disk: 1000 }) => ({
    recipe: 'other-recipe',
    outputDigest: done[step]?.outputDigest ?? '',
    artifacts: Object.fromEntries(
      Object.entries(files).map(([name, size]) => [name, { file: `${name}.img`, size }]),
    ),
  });
  const cachedOf = (...ids: string[]) =>
    new Map(ids.map((s) => [done[s]?.fingerprint ?? '', entry(s)]));

  test('steps never run here whose fingerprints the cache holds are restored; what runs reads them', () => {
    const plan = planSteps(facts({ cached: cachedOf('a', 'b') }));
    expect(verdicts(facts({ cached: cachedOf('a', 'b') }))).toEqual({
      a: 'run:restore',
      b: 'run:restore',
      c: 'run:never-run',
      d: 'run:never-run',
    });
    const byId = new Map(plan.decisions.map((d) => [d.id, d]));
    // A restored step's output digest is known: its dependents' fingerprints too.
    expect(byId.get(id('c'))?.fingerprint).toBe(done.c?.fingerprint);
    expect(byId.get(id('a'))?.reasons[0]).toBe(
      'restore from the cache (made by recipe other-recipe)',
    );
    // c runs and reads b's files; d runs and reads a's: both downloaded. A restored step
    // reads nothing (b does not need a's files to be restored).
    expect(byId.get(id('b'))?.download).toEqual({
      artifacts: [{ name: 'disk', file: 'disk.img', size: 1000 }],
      bytes: 1000,
      readBy: ['c'],
    });
    expect(byId.get(id('a'))?.download?.readBy).toEqual(['d']);
  });

  test("through an overlay (readsThrough): a step reading b's files reads a's too, downloaded for it", () => {
    const f = facts({ cached: cachedOf('a', 'b') });
    const through = planSteps({ ...f, readsThrough: new Set(['k']) });
    const byId = new Map(through.decisions.map((d) => [d.id, d]));
    // c reads b's disk, an overlay of a's: a's files come for c as well as for d.
    expect(byId.get(id('b'))?.download?.readBy).toEqual(['c']);
    expect([...(byId.get(id('a'))?.download?.readBy ?? [])].sort()).toEqual(['c', 'd']);
    // Without it, a's files come for d alone.
    expect(planSteps(f).decisions.find((d) => d.id === 'a')?.download?.readBy).toEqual(['d']);
  });

  test('a step recorded elsewhere that a running step needs is downloaded, not run, when cached', () => {
    const records = completedRecords({ c: { changed: true } });
    const withArtifacts = {
      ...records,
      b: { ...records.b!, artifacts: { disk: { file: 'disk.img', size: 42 } } },
    };
    const f = facts({
      records: withArtifacts,
      elsewhere: new Set(['a', 'b', 'd']),
      cached: cachedOf('b'),
    });
    const plan = planSteps(f);
    expect(verdicts(f)).toEqual({
      a: 'up-to-date:up-to-date-elsewhere',
      b: 'up-to-date:up-to-date-elsewhere',
      c: 'run:changed',
      d: 'up-to-date:up-to-date-elsewhere',
    });
    expect(plan.decisions.find((d) => d.id === 'b')?.download).toEqual({
      artifacts: [{ name: 'disk', file: 'disk.img', size: 42 }],
      bytes: 42,
      readBy: ['c'],
    });
    // Not cached: it runs again here, and says the cache lacks it too.
    const missing = planSteps({ ...f, cached: new Map() });
    expect(missing.facts.artifactProblems.get('b')).toEqual(
      'up to date in the store, but its outputs are not in this work directory nor in the step cache and c needs them: runs again here',
    );
  });

  test("a step that reads only its needs' values makes none of their files come here", () => {
    // d (kind 'other', a registration say) changed and needs a, whose files are elsewhere.
    const records = completedRecords({ d: { changed: true } });
    const f = facts({
      records: {
        ...records,
        a: { ...records.a!, artifacts: { disk: { file: 'a.img', size: 9 } } },
      },
      elsewhere: new Set(['a']),
      cached: cachedOf('a'),
    });
    expect(planSteps(f).decisions.find((d) => d.id === 'a')?.download?.readBy).toEqual(['d']);
    const valuesOnly = planSteps({ ...f, readsValuesOnly: new Set(['other']) });
    expect(valuesOnly.decisions.find((d) => d.id === 'a')?.download).toBeUndefined();
    // Without a cache, a's files are not made again here for d either.
    expect(verdicts({ ...f, cached: undefined, readsValuesOnly: new Set(['other']) }).a).toBe(
      'up-to-date:up-to-date-elsewhere',
    );
    expect(verdicts({ ...f, cached: undefined }).a).toBe('run:outputs-changed');
  });

  test('a forced step is run, not restored', () => {
    expect(verdicts(facts({ cached: cachedOf('a'), forced: new Set(['a']) })).a).toBe(
      'run:never-run',
    );
    expect(
      verdicts(facts({ records: done, cached: cachedOf('a'), forced: new Set(['a']) })).a,
    ).toBe('run:forced');
  });
});

describe('planWithCache (run/plan-cache.ts): asks the cache round by round', () => {
  test('each restored step makes the next fingerprint known, and it is asked for', async () => {
    const done = completedRecords();
    const asked: string[] = [];
    const entries = new Map(
      ['a', 'b', 'c'].map((s) => [
        done[s]?.fingerprint ?? '',
        {
          kind: 'k',
          fingerprint: done[s]?.fingerprint ?? '',
          recipe: 'r',
          created: '2026-11-30T00:00:00.000Z',
          artifacts: {},
          values: {},
          outputDigest: done[s]?.outputDigest ?? '',
        },
      ]),
    );
    const cache: StepCache = {
      where: 's3://b/p/_cache/',
      caches: (k) => k === 'k',
      lookup: (fingerprint) => {
        asked.push(fingerprint);
        const found = entries.get(fingerprint);
        return Promise.resolve(found ? { found } : {});
      },
      save: () => Promise.reject(new Error('not in a plan')),
      fetch: () => Promise.reject(new Error('not in a plan')),
    };
    const { plan } = await planWithCache(facts(), cache, new AbortController().signal);
    expect(plan.decisions.map((d) => `${d.id}:${d.cause}`)).toEqual([
      'a:restore',
      'b:restore',
      'd:never-run',
      'c:restore',
    ]);
    // a first (the only fingerprint known), then b, then c; d's kind is not cached.
    expect(asked).toEqual([done.a?.fingerprint, done.b?.fingerprint, done.c?.fingerprint]);
  });
});
