// The CI examples (examples/ci/) are run by users as they are: every emi-recipe command and
// option they use must exist (checked against the CLI's own commander program), plans run
// on pull/merge requests against the shared store, applies only on the main branch, one
// at a time per recipe, waiting for the store's lock.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram } from '../../../src/cli/main.js';
import { repoPath } from '../../helpers/paths.js';

const program = buildProgram(
  {
    terminal: { out: () => undefined, err: () => undefined, isTty: false, color: false },
    env: {},
    signal: new AbortController().signal,
  },
  { code: 0 },
);

function load(name: string): unknown {
  return parse(readFileSync(repoPath('examples', 'ci', name), 'utf8'));
}

/** Every string under `node` whose key is `run` (GitHub) or inside `script` (GitLab). */
function shellLines(node: unknown, key = ''): string[] {
  if (typeof node === 'string') return key === 'run' || key === 'script' ? [node] : [];
  if (Array.isArray(node)) return node.flatMap((item) => shellLines(item, key));
  if (node !== null && typeof node === 'object')
    return Object.entries(node).flatMap(([k, v]) =>
      shellLines(v, k === 'run' || k === 'script' ? k : key === 'script' ? key : k),
    );
  return [];
}

/** `emi-recipe <command> …` invocations: the command and the long options used. */
function invocations(
  lines: readonly string[],
): { command: string; options: string[]; text: string }[] {
  const found = [];
  for (const line of lines.join('\n').split('\n'))
    for (const m of line.matchAll(/emi-recipe\s+([a-z][a-z-]*)(?=\s|$)([^|;&]*)/g)) {
      const rest = m[2] ?? '';
      found.push({
        command: m[1] ?? '',
        options: [...rest.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((o) => o[1] ?? ''),
        text: m[0],
      });
    }
  return found;
}

function commandNamed(name: string): Command | undefined {
  return program.commands.find((c) => c.name() === name);
}

describe.each(['github-actions.yml', 'gitlab-ci.yml'])('examples/ci/%s', (file) => {
  const doc = load(file);
  const calls = invocations(shellLines(doc));

  test('plans and applies every recipe against the shared store', () => {
    const commands = calls.map((c) => c.command);
    expect(commands).toEqual(expect.arrayContaining(['validate', 'plan', 'apply']));
    for (const c of calls.filter((x) => x.command === 'plan' || x.command === 'apply'))
      expect(c.options).toContain('--store');
    const apply = calls.find((c) => c.command === 'apply');
    expect(apply?.options).toEqual(expect.arrayContaining(['--lock-timeout', '--no-progress']));
  });

  test('every command and option it uses exists in the CLI', () => {
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const command = commandNamed(call.command);
      expect({ call: call.text, exists: command !== undefined }).toEqual({
        call: call.text,
        exists: true,
      });
      const known = new Set((command?.options ?? []).map((o) => o.long));
      for (const option of call.options)
        expect({ call: call.text, option, known: known.has(option) }).toEqual({
          call: call.text,
          option,
          known: true,
        });
    }
  });
});

describe('examples/ci/github-actions.yml', () => {
  const jobs = (load('github-actions.yml') as { jobs: Record<string, Record<string, unknown>> })
    .jobs;
  test('plan on pull requests, apply on pushes to main, one apply per recipe at a time', () => {
    expect(jobs.plan?.if).toBe("github.event_name == 'pull_request'");
    expect(jobs.apply?.if).toBe("github.event_name == 'push'");
    expect(jobs.apply?.concurrency).toEqual({
      group: 'emi-recipe-${{ matrix.recipe }}',
      'cancel-in-progress': false,
    });
    for (const job of [jobs.plan, jobs.apply])
      expect((job?.strategy as { matrix: { recipe: string } }).matrix.recipe).toContain(
        'needs.recipes.outputs.list',
      );
  });
});

describe('examples/ci/gitlab-ci.yml', () => {
  const doc = load('gitlab-ci.yml') as Record<string, Record<string, unknown>>;
  test('plan on merge requests, apply on the default branch, one apply per recipe at a time', () => {
    expect(JSON.stringify(doc.plan?.rules)).toContain('merge_request_event');
    expect(JSON.stringify(doc.apply?.rules)).toContain('$CI_DEFAULT_BRANCH');
    expect(doc.apply?.resource_group).toBe('emi-recipe-$RECIPE');
    // Every recipe in the repository is in the matrix.
    const matrix =
      (doc['.each-recipe']?.parallel as { matrix: { RECIPE: string[] }[] }).matrix[0]?.RECIPE ?? [];
    expect(matrix.length).toBeGreaterThan(0);
  });
});
