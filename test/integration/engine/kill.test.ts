// Fault injection: SIGKILL the CLI at seeded random moments during an apply, re-run it
// each time, and check that the end result equals an uninterrupted run's and that no
// "run once" step (image registration) ever completed twice.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  makeEngineRig,
  runFakeCli,
  startFakeCli,
  type EngineRig,
} from '../../helpers/engine-rig.js';

/** mulberry32: a small seeded PRNG, so failures reproduce. */
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

interface Outcome {
  readonly steps: Record<string, { outputDigest: string; values: unknown }>;
}

function outcome(rig: EngineRig): Outcome {
  const state = JSON.parse(readFileSync(join(rig.workDir, 'state.json'), 'utf8')) as {
    steps: Record<string, { outputDigest: string; values: unknown }>;
  };
  return {
    steps: Object.fromEntries(
      Object.entries(state.steps).map(([id, r]) => [
        id,
        { outputDigest: r.outputDigest, values: r.values },
      ]),
    ),
  };
}

const SEED = Number(process.env.EMI_KILL_SEED ?? 20261126);
const RIGS = 4;
const KILLS_PER_RIG = 6;

describe('SIGKILL at random moments', () => {
  test(`${RIGS * KILLS_PER_RIG} kills (seed ${SEED}) end in the same result, with no duplicate registration`, async () => {
    const config = { defaultDelayMs: 120 };
    const baseline = makeEngineRig();
    baseline.setConfig(config);
    expect(runFakeCli(baseline, ['apply', baseline.recipe, '--no-progress']).code).toBe(0);
    const expected = outcome(baseline);
    expect(Object.keys(expected.steps)).toHaveLength(17);

    const random = prng(SEED);
    const killPoints: number[] = [];
    let interruptedSteps = 0;
    for (let r = 0; r < RIGS; r += 1) {
      const rig = makeEngineRig();
      rig.setConfig(config);
      for (let k = 0; k < KILLS_PER_RIG; k += 1) {
        // Kill at a random moment after this process started its first step (process start-up
        // time varies too much under load to aim from the spawn), up to about 6 steps later.
        const delay = Math.floor(random() * 6 * config.defaultDelayMs);
        const run = startFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
        const flags = { exited: false };
        void run.done.then(() => (flags.exited = true));
        while (!flags.exited && !rig.journal().some((e) => e.pid === run.child.pid))
          await new Promise((resolve) => setTimeout(resolve, 10));
        await new Promise((resolve) => setTimeout(resolve, delay));
        killPoints.push(
          delay + ((rig.journal().find((e) => e.pid === run.child.pid)?.time ?? 0) % 100_000),
        );
        run.child.kill('SIGKILL');
        const done = await run.done;
        expect(done.signal === 'SIGKILL' || done.code === 0).toBe(true);
      }
      const final = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
      expect(final.stderr).toBe('');
      expect(final.code).toBe(0);
      expect(outcome(rig)).toEqual(expected);
      // Registration is the run-once step: exactly one per image, whatever was killed when.
      const registrations = rig.registry();
      expect(registrations.map((e) => e.imageId.slice(0, 3)).sort()).toEqual(['eki', 'emi', 'eri']);
      // And every started step either ended in this or an earlier run, or was killed.
      const journal = rig.journal();
      const ends = journal.filter((e) => e.event === 'end');
      expect(new Set(ends.map((e) => e.id)).size).toBe(17);
      // Steps killed while running: started in a process that never ended them.
      interruptedSteps += journal.filter(
        (s) => s.event === 'start' && !ends.some((e) => e.id === s.id && e.pid === s.pid),
      ).length;
    }
    expect(new Set(killPoints).size).toBeGreaterThanOrEqual(20);
    // The kills really landed in the middle of steps, not only between them.
    expect(interruptedSteps).toBeGreaterThanOrEqual(5);
  });
});
