// examples/ci/github-actions-prune.yml is run by users as it is: every `emi-recipe cache`
// subcommand and option it uses must exist (checked against the CLI's own commander
// program), it runs on a schedule, and it prunes with a cutoff of days, not hours.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
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

const text = readFileSync(repoPath('examples', 'ci', 'github-actions-prune.yml'), 'utf8');
const doc = parse(text) as {
  on: { schedule?: { cron: string }[] };
  jobs: Record<string, { steps: { run?: string }[] }>;
};
const runs = Object.values(doc.jobs).flatMap((j) => j.steps.flatMap((s) => s.run ?? []));

/** `emi-recipe cache <sub> …`: the subcommand and the long options used. */
const calls = runs.flatMap((line) =>
  [...line.matchAll(/emi-recipe\s+cache\s+([a-z]+)([^|;&]*)/g)].map((m) => ({
    sub: m[1] ?? '',
    options: [...(m[2] ?? '').matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((o) => o[1] ?? ''),
    text: m[0],
  })),
);

describe('examples/ci/github-actions-prune.yml', () => {
  test('every cache subcommand and option it uses exists in the CLI', () => {
    const cache = program.commands.find((c) => c.name() === 'cache');
    expect(calls.map((c) => c.sub)).toEqual(['ls', 'prune']);
    for (const call of calls) {
      const sub = cache?.commands.find((c) => c.name() === call.sub);
      const known = new Set((sub?.options ?? []).map((o) => o.long));
      for (const option of call.options)
        expect({ call: call.text, option, known: known.has(option) }).toEqual({
          call: call.text,
          option,
          known: true,
        });
    }
  });

  test('runs weekly and prunes what is older than 30 days', () => {
    expect(doc.on.schedule?.[0]?.cron).toMatch(/^\S+ \S+ \* \* \d$/);
    expect(text).toContain('--older-than 30d');
  });
});
