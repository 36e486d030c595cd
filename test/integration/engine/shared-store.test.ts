// Several runners on one recipe through a shared S3 store in the embedded cloud, over real
// HTTP with the real AWS SDK: "runner A" and "runner B" are two work directories on this
// machine (the test-only step kinds keep it fast). One apply holds the lock, the other
// exits 3 naming it or waits (--lock-timeout); a SIGKILLed holder's lease runs out and the
// next apply takes over; `unlock ID` frees it at once; a plan in an empty work directory
// shows the store's truth; without the lock, a lost race is refused, never merged.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { makeEngineRig, startFakeCli, type EngineRig } from '../../helpers/engine-rig.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

const STORE = 's3://emi-state/ci';

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the fake CLI without blocking this process (which serves the cloud). */
function run(rig: EngineRig, args: readonly string[]): Promise<Done> {
  return startFakeCli(rig, args).done;
}

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const lockIdOf = (stderr: string): string => /lock ID ([0-9a-f-]{36})/.exec(stderr)?.[1] ?? '';

/** A rig whose embedded cloud (the store's server) is served by this test process. */
async function rigWithCloud(): Promise<{ rig: EngineRig; cloud: TestCloud }> {
  const rig = makeEngineRig();
  const cloud = await startTestCloud({ dataDir: join(rig.dir, '.emi-recipe', 'local-cloud') });
  clouds.push(cloud);
  return { rig, cloud };
}

const clouds: TestCloud[] = [];
beforeAll(() => {
  clouds.length = 0;
});
afterAll(async () => {
  for (const cloud of clouds) await cloud.stop(true);
});

const workDirA = (rig: EngineRig): string => join(rig.dir, 'runner-a');
const workDirB = (rig: EngineRig): string => join(rig.dir, 'runner-b');
const apply = (rig: EngineRig, workDir: string, ...extra: string[]): string[] => [
  'apply',
  rig.recipe,
  '--no-progress',
  '--store',
  STORE,
  '--work-dir',
  workDir,
  ...extra,
];

describe('a shared store in the embedded cloud', () => {
  test('two applies at once: one builds, the other exits 3 naming the holder, or waits', async () => {
    const { rig } = await rigWithCloud();
    // Slow enough (17 steps of 0.6 s) that B, started once A runs, finds A holding the lock.
    rig.setConfig({ defaultDelayMs: 600 });
    const a = startFakeCli(rig, apply(rig, workDirA(rig)));
    await waitFor(() => rig.journal().some((e) => e.pid === a.child.pid));
    const refused = await run(rig, apply(rig, workDirB(rig)));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `error: the lock ${STORE}/engine-demo/state.json.lock is held by`,
    );
    expect(refused.stderr).toContain(`(pid ${String(a.child.pid)}, apply ${rig.recipe}`);
    expect(lockIdOf(refused.stderr)).not.toBe('');
    expect(refused.stderr).toContain('--lock-timeout 10m waits');
    // A third runner waits for the lock, then finds everything done by A.
    const waiting = await run(rig, apply(rig, workDirB(rig), '--lock-timeout', '2m'));
    const doneA = await a.done;
    expect(doneA.code).toBe(0);
    expect(waiting.stderr).toContain(
      `Waiting up to 2m for the lock ${STORE}/engine-demo/state.json.lock`,
    );
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toContain('Nothing to do: all 17 steps are up to date.');
    expect(rig.registry()).toHaveLength(3);
  });

  test("an empty work directory's plan shows the store's truth", async () => {
    const { rig } = await rigWithCloud();
    const a = await run(rig, apply(rig, workDirA(rig)));
    expect(a.code).toBe(0);
    const plan = await run(rig, [
      'plan',
      rig.recipe,
      '--store',
      STORE,
      '--work-dir',
      workDirB(rig),
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as {
      store: { url: string; locking: boolean };
      summary: { run: number; upToDate: number };
      steps: { id: string; cause: string; reasons: string[] }[];
    };
    expect(doc.store).toEqual({ url: `${STORE}/engine-demo/state.json`, locking: true });
    expect(doc.summary).toMatchObject({ run: 0, upToDate: 17 });
    expect(doc.steps.find((s) => s.id === 'install-os')).toMatchObject({
      cause: 'up-to-date-elsewhere',
      reasons: ['up to date in the store; outputs not in this work directory'],
    });
    // The recipe's own work directory (no store) knows nothing of it.
    const local = await run(rig, ['plan', rig.recipe, '--json']);
    expect((JSON.parse(local.stdout) as { summary: { run: number } }).summary.run).toBe(17);
  });

  test("a SIGKILLed holder's lease runs out and the next apply takes over and finishes", async () => {
    const { rig } = await rigWithCloud();
    rig.setConfig({ defaultDelayMs: 200 });
    const a = startFakeCli(rig, apply(rig, workDirA(rig), '--lease', '4s'));
    await waitFor(() => rig.journal().some((e) => e.pid === a.child.pid && e.event === 'end'));
    a.child.kill('SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    // (Whether B still finds the lease running depends on how fast it starts: it waits.)
    const b = await run(rig, apply(rig, workDirB(rig), '--lock-timeout', '1m'));
    expect(b.stderr).toContain('note: took over the lock whose lease had run out');
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/Images: eki-\S+ eri-\S+ emi-\S+/);
    // Registration is "run once" in the fake cloud: never two of one image.
    const keys = rig.registry().map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("unlock ID frees a dead holder's lock at once; a wrong ID is refused", async () => {
    const { rig } = await rigWithCloud();
    rig.setConfig({ defaultDelayMs: 200 });
    const a = startFakeCli(rig, apply(rig, workDirA(rig), '--lease', '10m'));
    await waitFor(() => rig.journal().some((e) => e.pid === a.child.pid));
    a.child.kill('SIGKILL');
    await a.done;
    const refused = await run(rig, apply(rig, workDirB(rig)));
    expect(refused.code).toBe(3);
    const id = lockIdOf(refused.stderr);
    // status --store names the store's lock holder, as apply found it.
    const status = await run(rig, ['status', rig.recipe, '--store', STORE, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      store: `${STORE}/engine-demo/state.json`,
      running: true,
      lock: { state: 'held', holder: { id, pid: a.child.pid } },
    });
    const wrong = await run(rig, [
      'unlock',
      '00000000-0000-0000-0000-000000000000',
      rig.recipe,
      '--store',
      STORE,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      `has ID ${id}, not 00000000-0000-0000-0000-000000000000: nothing was removed`,
    );
    const unlocked = await run(rig, ['unlock', id, rig.recipe, '--store', STORE]);
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toContain(`Removed the lock of ${STORE}/engine-demo/state.json`);
    const b = await run(rig, apply(rig, workDirB(rig)));
    expect(b.code).toBe(0);
  });

  test('a run whose lock was forced off and taken stops at its next renewal (exit 3)', async () => {
    const { rig } = await rigWithCloud();
    rig.setConfig({ defaultDelayMs: 600 });
    const a = startFakeCli(rig, apply(rig, workDirA(rig), '--lease', '3s'));
    await waitFor(() => rig.journal().some((e) => e.pid === a.child.pid));
    const refused = await run(rig, apply(rig, workDirB(rig)));
    expect(refused.code).toBe(3);
    const unlocked = await run(rig, [
      'unlock',
      lockIdOf(refused.stderr),
      rig.recipe,
      '--store',
      STORE,
    ]);
    expect(unlocked.code).toBe(0);
    const b = startFakeCli(rig, apply(rig, workDirB(rig), '--lock-timeout', '1m'));
    const doneA = await a.done;
    expect(doneA.code).toBe(3);
    expect(doneA.stderr).toContain(
      `error: this run lost the lock ${STORE}/engine-demo/state.json.lock`,
    );
    expect(doneA.stderr).not.toContain('Interrupted.');
    expect((await b.done).code).toBe(0);
  });

  test('without the lock, a state write that lost the race is refused, not merged (exit 3)', async () => {
    const { rig } = await rigWithCloud();
    rig.setConfig({ defaultDelayMs: 400 });
    const a = startFakeCli(rig, apply(rig, workDirA(rig), '--no-lock'));
    await waitFor(
      () => rig.journal().filter((e) => e.pid === a.child.pid && e.event === 'end').length >= 2,
    );
    const b = startFakeCli(rig, apply(rig, workDirB(rig), '--no-lock'));
    const [doneA, doneB] = await Promise.all([a.done, b.done]);
    expect(doneA.stderr + doneB.stderr).toContain('warning: locking is OFF (--no-lock)');
    const codes = [doneA.code, doneB.code].sort();
    expect(codes).toEqual([0, 3]);
    const loser = doneA.code === 3 ? doneA : doneB;
    expect(loser.stderr).toContain(
      "was changed by another run since this one read it; this run's write was refused (never merged)",
    );
  });
});
