// npm run bench:engine — the engine's own costs, with test-only steps that do no work:
//  1. plan time for a completed recipe whose artifacts total 5 GiB (target < 300 ms:
//     artifacts are identified by stat, never re-read);
//  2. the engine's overhead per step during apply (target < 20 ms).
import { mkdtempSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCli } from '../src/cli/main.js';
import { memoryTerminal } from '../src/cli/output/terminal.js';
import { fakeKinds, type FakeConfig } from '../test/helpers/fake-kinds.js';
import { repoPath } from '../test/helpers/paths.js';

const GiB = 2 ** 30;

function rig(extra: Partial<FakeConfig>): { dir: string; recipe: string; config: FakeConfig } {
  const dir = mkdtempSync(join(tmpdir(), 'emi-bench-engine-'));
  cpSync(repoPath('test', 'fixtures', 'recipes', 'engine'), dir, { recursive: true });
  const config: FakeConfig = {
    journal: join(dir, 'journal.log'),
    registry: join(dir, 'registry.jsonl'),
    ...extra,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, recipe: join(dir, 'demo.yaml'), config };
}

async function cli(
  args: string[],
  config: FakeConfig,
): Promise<{ code: number; ms: number; stdout: string }> {
  const terminal = memoryTerminal();
  const t0 = performance.now();
  const code = await runCli(args, {
    terminal,
    env: { PATH: process.env.PATH ?? '' },
    signal: new AbortController().signal,
    kinds: fakeKinds(config),
    probeAccel: () => Promise.resolve('tcg'),
    hostFacts: () => Promise.resolve({ accel: 'tcg', isRoot: false }),
  });
  return { code, ms: performance.now() - t0, stdout: terminal.stdout() + terminal.stderr() };
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function planBenchmark(): Promise<void> {
  // 5 GiB of artifacts, spread like a real build's (disk images and a root file system).
  const bytes = { 'install-os': 2 * GiB, customize: 1 * GiB, 'extract-rootfs': 2 * GiB };
  const r = rig({ artifactBytes: bytes });
  const applied = await cli(['apply', r.recipe, '--no-progress'], r.config);
  if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stdout}`);
  const times: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    const plan = await cli(['plan', r.recipe], r.config);
    if (!plan.stdout.includes('Plan: 0 to run, 17 up to date'))
      throw new Error(`unexpected plan:\n${plan.stdout}`);
    times.push(plan.ms);
  }
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  console.log(
    `plan of a completed recipe, artifacts ${total / GiB} GiB: median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}; target < 300 ms)`,
  );
  rmSync(r.dir, { recursive: true, force: true });
}

async function overheadBenchmark(): Promise<void> {
  const perStep: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const r = rig({ defaultDelayMs: 0 });
    const applied = await cli(['apply', r.recipe, '--no-progress', '--jobs', '1'], r.config);
    if (applied.code !== 0) throw new Error(`apply failed:\n${applied.stdout}`);
    // Time inside the steps themselves (from the fakes' journal) is not the engine's.
    const events = readFileSync(r.config.journal, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '));
    const starts = new Map(events.filter((e) => e[2] === 'start').map((e) => [e[3], Number(e[0])]));
    const inSteps = events
      .filter((e) => e[2] === 'end')
      .reduce((sum, e) => sum + (Number(e[0]) - (starts.get(e[3]) ?? Number(e[0]))), 0);
    perStep.push((applied.ms - inSteps) / 17);
    rmSync(r.dir, { recursive: true, force: true });
  }
  console.log(
    `engine overhead per step (17 no-op steps, --jobs 1: decide, state writes with fsync, logs, output hashing, rename): median ${median(perStep).toFixed(1)} ms (target < 20 ms)`,
  );
}

await planBenchmark();
await overheadBenchmark();
