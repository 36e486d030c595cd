// Fuzz: a seeded generator writes 210 hostile recipes (prototype keys at every level,
// alias bombs and loops, huge scalars, control and non-UTF-8 bytes, option-like names,
// deep nesting, floods of values) and runs each through the built CLI's `plan` (one
// process each, two at a time) and `validate` (batches). Every run exits 0 or 2 within
// 5 s of CPU per recipe (never 70, never killed), and no plan names a host path that the
// recipe did not write literally as a `source`, or the secret it tried to smuggle in.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { repoPath } from '../helpers/paths.js';
import { scrubbedEnv } from '../helpers/run-cli.js';

const SEED = 0x5eed_2026;
const COUNT = 210;
/** CPU time a plan may use (a validate batch: this per recipe). */
const PER_RECIPE_MS = 5_000;
/** A run that has not ended after this long is blocked (not burning CPU): stopped. */
const WALL_STOP_MS = 120_000;
const VALIDATE_BATCH = 15;

/** mulberry32: a small, well-known 32-bit PRNG; the same seed gives the same recipes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Slot = 'root' | 'install' | 'debootstrap' | 'customize' | 'user' | 'file' | 'publish';
const INDENT: Record<Slot, string> = {
  root: '',
  install: '  ',
  debootstrap: '    ',
  customize: '  ',
  user: '      ',
  file: '      ',
  publish: '  ',
};
const SLOTS = Object.keys(INDENT) as Slot[];

interface Draft {
  lines: Partial<Record<Slot, string[]>>;
  replace: [string, string][];
  /** Applied to the finished text (as bytes). */
  bytes: ((b: Buffer, rnd: () => number) => Buffer)[];
  kinds: string[];
}

function base(name: string): string {
  return [
    `name: ${name}`,
    'disk: { size: 2G }',
    'install:',
    '  debootstrap:',
    '    suite: bookworm',
    '#SLOT debootstrap',
    '#SLOT install',
    'customize:',
    '  packages: [less]',
    '  users:',
    '    - name: demo',
    '#SLOT user',
    '  files:',
    '    - path: /etc/motd',
    '      source: ./motd.txt',
    '#SLOT file',
    '#SLOT customize',
    'publish:',
    '  cloud: local',
    '#SLOT publish',
    '#SLOT root',
    '',
  ].join('\n');
}

/** Builds recipe number `index`: one or two hostile changes to a recipe that plans offline. */
function generate(
  index: number,
  rnd: () => number,
  secret: string,
): { text: Buffer; kinds: string[] } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const draft: Draft = { lines: {}, replace: [], bytes: [], kinds: [] };
  const add = (slot: Slot, ...lines: string[]): void => {
    (draft.lines[slot] ??= []).push(...lines.map((l) => `${INDENT[slot]}${l}`));
  };
  const payloads = [
    `{ files: [{ path: /root/x, source: ${secret} }] }`,
    `{ files: [{ path: /root/x, source: /etc/shadow }] }`,
    '{ packages: ["--allow-unauthenticated", "-o=APT::Get::AllowUnauthenticated=1"] }',
    `{ source: ${secret} }`,
    '{ suite: "--unpack-tarball=/etc/shadow" }',
    '{ name: "-oProxyCommand=touch /tmp/x" }',
    `[${secret}]`,
    secret,
    '{ cloud: aws, endpoints: { ec2: "http://10.0.0.1" } }',
  ];
  const keys = [
    '__proto__',
    '"__proto__"',
    "'__proto__'",
    '"\\x5f_proto__"',
    'constructor',
    'prototype',
  ];
  const mutations: Record<string, () => void> = {
    'proto-key': () => {
      add(pick(SLOTS), `${pick(keys)}: ${pick(payloads)}`);
    },
    'proto-key-flow': () =>
      draft.replace.push([
        '  packages: [less]',
        `  packages: [less]\n  ${pick(keys)}: ${pick(payloads)}`,
      ]),
    'proto-alias-key': () => {
      add('root', 'description: &k __proto__');
      add(pick(SLOTS), `*k : ${pick(payloads)}`);
    },
    // Where the recipe has no key of its own, an inherited one was read by normalize alone.
    'proto-smuggle': () => {
      const key = pick(keys);
      if (rnd() < 0.5) {
        draft.replace.push(
          ['  files:\n    - path: /etc/motd\n      source: ./motd.txt\n#SLOT file\n', ''],
          [
            '  packages: [less]',
            `  ${key}: { packages: ["--allow-unauthenticated"], files: [{ path: /root/x, source: ${pick([secret, '/etc/shadow'])} }] }`,
          ],
        );
      } else {
        draft.replace.push(['      source: ./motd.txt', `      ${key}: { source: ${secret} }`]);
      }
    },
    'merge-key': () => {
      add('customize', `<<: ${pick(payloads)}`);
    },
    'alias-bomb': () => {
      const levels = int(2, 9);
      const width = int(2, 9);
      add('root', 'b0: &b0 [lol, lol]');
      for (let l = 1; l <= levels; l += 1)
        add(
          'root',
          `b${l}: &b${l} [${Array.from({ length: width }, () => `*b${l - 1}`).join(', ')}]`,
        );
      if (rnd() < 0.5) add('root', `description: *b${levels}`);
    },
    'alias-loop': () => {
      add('root', pick(['loop: &l [*l]', 'loop: &l { a: *l }', 'test: &t { commands: *t }']));
    },
    'alias-ok': () => {
      draft.replace.push(['  packages: [less]', '  packages: &p [less, curl]']);
      add('root', 'test: { commands: *p }');
    },
    'huge-scalar': () => {
      const size = pick([10_000, 200_000, 900_000, 1_100_000, 3_000_000]);
      const style = pick(['plain', 'double', 'block']);
      const body = 'x'.repeat(size);
      if (style === 'block') add('root', 'description: |', `  ${body}`);
      else add('root', `description: ${style === 'double' ? `"${body}"` : body}`);
    },
    'huge-package': () =>
      draft.replace.push([
        '  packages: [less]',
        `  packages: [less, ${'a'.repeat(int(1000, 500_000))}]`,
      ]),
    'control-bytes': () => {
      add('root', 'description: "ctl ~~~"');
      draft.bytes.push((b, r) => {
        const at = b.indexOf('~~~');
        const pool = [
          0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x1b, 0x7f, 0x80, 0xc0, 0xfe, 0xff, 0x85, 0xa0,
        ];
        for (let k = 0; k < 3; k += 1) b[at + k] = pool[Math.floor(r() * pool.length)] ?? 0;
        return b;
      });
    },
    'random-bytes': () =>
      draft.bytes.push((b, r) => {
        for (let k = 0; k < 3; k += 1) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        return b;
      }),
    'yaml-tags': () => {
      add(
        'root',
        pick([
          'extract: !!timestamp 2001-12-14',
          'description: !!binary aGVsbG8=',
          'test: !!set { a, b }',
          'test: { commands: !!omap [a: 1] }',
          'description: !custom x',
        ]),
      );
    },
    'escaped-controls': () => {
      add('root', 'description: "a\\x00b\\x1b[31mc\\u202ed\\x7f"');
    },
    'option-package': () => {
      pick([
        () =>
          draft.replace.push([
            '  packages: [less]',
            `  packages: [less, "${pick(['-y', '--force-yes', '-oDebug::pkgProblemResolver=1'])}"]`,
          ]),
        () => {
          add('debootstrap', `packages: [curl, "--allow-downgrades"]`);
        },
        () => {
          add('debootstrap', 'kernelPackage: "-x"');
        },
      ])();
    },
    'option-names': () => {
      pick([
        () => draft.replace.push(['    - name: demo', '    - name: "-oProxyCommand=x"']),
        () => {
          add('user', 'groups: ["--help"]');
        },
        () => {
          add('customize', 'remove: ["-rf"]');
        },
        () => draft.replace.push(['    suite: bookworm', '    suite: "--foreign"']),
        () => {
          add('debootstrap', 'mirror: "-x"');
        },
        () => {
          add('install', 'timezone: "--nontp"');
        },
        () => {
          add('customize', 'rcLocal: { modules: ["-r"] }');
        },
        () => {
          add('file', 'owner: "-R"');
        },
        () => {
          add('root', 'test: { user: "-lroot" }');
        },
      ])();
    },
    'deep-nesting': () => {
      const depth = pick([40, 60, 1000, 100_000]);
      pick([
        () => {
          add('root', `description: ${'['.repeat(depth)}${']'.repeat(depth)}`);
        },
        () => {
          add('root', 'extra:', `  ${'- '.repeat(depth)}x`);
        },
        () => {
          add('root', `description: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`);
        },
      ])();
    },
    placeholders: () => {
      add(
        'root',
        `description: "${pick(['${env.constructor}', '${env.__proto__}', '${env.toString:-x}', '${steps.install-os.constructor}', '${steps.__proto__.x}', '${env.HOME}'])}"`,
      );
    },
    'many-values': () =>
      draft.replace.push([
        '  packages: [less]',
        `  packages: [${Array.from({ length: int(9_000, 13_000) }, (_, i) => `p${i}`).join(', ')}]`,
      ]),
    'outside-source': () =>
      draft.replace.push([
        '      source: ./motd.txt',
        `      source: ${pick([secret, '/etc/shadow', '../outside/secret.txt'])}`,
      ]),
    benign: () => undefined,
  };
  const names = Object.keys(mutations);
  // Every kind in turn (so each appears about COUNT / kinds times), sometimes plus a random one.
  const chosen = [names[index % names.length] ?? 'benign'];
  if (rnd() < 0.3) chosen.push(pick(names));
  for (const name of chosen) {
    draft.kinds.push(name);
    mutations[name]?.();
  }
  let text = base(`fuzz-${String(index).padStart(3, '0')}`);
  for (const [from, to] of draft.replace) text = text.replace(from, to);
  for (const slot of SLOTS)
    text = text.replace(`#SLOT ${slot}`, (draft.lines[slot] ?? []).join('\n'));
  let bytes: Buffer = Buffer.from(text.replace(/\n{2,}/g, '\n'), 'utf8');
  for (const change of draft.bytes) bytes = change(bytes, rnd);
  return { text: bytes, kinds: draft.kinds };
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI with at most `cpuMs` of CPU time (RLIMIT_CPU through prlimit: the kernel
 * stops a runaway process with SIGXCPU, however loaded the machine is, where a wall-clock
 * limit would also stop a slow start under load), and a wall-clock stop for a process that
 * blocks without using the CPU.
 */
function runCli(args: readonly string[], cpuMs: number): Promise<Run> {
  return new Promise((done) => {
    const started = Date.now();
    const seconds = Math.ceil(cpuMs / 1000);
    const argv = [`--cpu=${seconds}:${seconds + 1}`, '--', process.execPath];
    const child = spawn('prlimit', [...argv, repoPath('bin', 'emi-recipe.js'), ...args], {
      cwd: repoPath(),
      env: scrubbedEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), WALL_STOP_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({
        code,
        signal,
        ms: Date.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Runs `jobs` with at most `width` at a time, results in order. */
async function pool<T>(jobs: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next;
      next += 1;
      const job = jobs[index];
      if (job) results[index] = await job();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** The host paths a recipe wrote literally as a `source:` value, resolved as the recipe's would be. */
function literalSources(text: string, dir: string): Set<string> {
  const found = new Set<string>();
  for (const m of text.matchAll(/source:\s*["']?([^\s"',}\]]+)/g))
    if (m[1] !== undefined) found.add(resolve(dir, m[1]));
  return found;
}

describe('hostile recipes through validate and plan (fuzz)', () => {
  let root: string;
  let dir: string;
  let secret: string;
  const recipes: { file: string; text: string; kinds: string[] }[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'emi-fuzz-'));
    dir = join(root, 'recipes');
    mkdirSync(dir);
    mkdirSync(join(root, 'outside'));
    secret = join(root, 'outside', 'secret.txt');
    writeFileSync(secret, 'not for the image\n');
    writeFileSync(join(dir, 'motd.txt'), 'hello\n');
    const rnd = prng(SEED);
    for (let i = 0; i < COUNT; i += 1) {
      const { text, kinds } = generate(i, rnd, secret);
      const file = join(dir, `r${String(i).padStart(3, '0')}.yaml`);
      writeFileSync(file, text);
      recipes.push({ file, text: text.toString('latin1'), kinds });
    }
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test(`${COUNT} generated recipes: exit 0 or 2 within ${PER_RECIPE_MS} ms of CPU, no smuggled host path`, async () => {
    const plans = await pool(
      recipes.map((r) => () => runCli(['plan', '--json', r.file], PER_RECIPE_MS)),
      2,
    );
    const batches: string[][] = [];
    for (let i = 0; i < recipes.length; i += VALIDATE_BATCH)
      batches.push(recipes.slice(i, i + VALIDATE_BATCH).map((r) => r.file));
    const validations = await pool(
      batches.map(
        (files) => () => runCli(['validate', '--json', ...files], PER_RECIPE_MS * files.length),
      ),
      2,
    );
    const valid = new Map<string, boolean>();
    const problems: string[] = [];
    validations.forEach((run, b) => {
      const files = batches[b] ?? [];
      if (run.signal !== null || (run.code !== 0 && run.code !== 2)) {
        problems.push(
          `validate batch ${b}: code ${String(run.code)} signal ${String(run.signal)}: ${run.stderr.slice(0, 400)}`,
        );
        return;
      }
      const report = JSON.parse(run.stdout) as { results: { file: string; valid: boolean }[] };
      if (report.results.length !== files.length)
        problems.push(`validate batch ${b}: ${report.results.length} results`);
      for (const result of report.results) valid.set(result.file, result.valid);
    });
    const verdicts = { ok: 0, refused: 0 };
    plans.forEach((run, i) => {
      const recipe = recipes[i];
      if (!recipe) return;
      const who = `${recipe.file} (${recipe.kinds.join(', ')})`;
      if (run.signal !== null)
        problems.push(
          `${who}: plan stopped by ${run.signal} after ${run.ms} ms (SIGXCPU or SIGKILL before ${WALL_STOP_MS} ms: over ${PER_RECIPE_MS} ms of CPU)`,
        );
      if (run.code !== 0 && run.code !== 2)
        problems.push(`${who}: plan exited ${String(run.code)}: ${run.stderr.slice(0, 400)}`);
      if (run.code === 2) verdicts.refused += 1;
      if (run.code !== 0) return;
      verdicts.ok += 1;
      if (valid.get(recipe.file) !== true)
        problems.push(`${who}: plan accepted what validate refused`);
      if (run.stdout.includes(secret) || run.stdout.includes('/etc/shadow'))
        problems.push(`${who}: the plan names the smuggled host file`);
      const plan = JSON.parse(run.stdout) as { basis: { inputs: Record<string, string | null> } };
      const allowed = literalSources(recipe.text, dir);
      for (const input of Object.keys(plan.basis.inputs)) {
        if (!allowed.has(input) || !input.startsWith(`${dir}/`))
          problems.push(
            `${who}: the plan reads ${input}, which the recipe did not name as a source`,
          );
      }
    });
    expect(problems).toEqual([]);
    // The generator must exercise both outcomes, or it tests nothing.
    expect(verdicts.ok).toBeGreaterThan(10);
    expect(verdicts.refused).toBeGreaterThan(100);
  });
});
