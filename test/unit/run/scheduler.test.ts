// The scheduler alone, with fake steps that the test finishes by hand: what starts when,
// the jobs limit, the failure modes and the run's AbortSignal. No state, files or CLI.
// Steps are released through explicit promises; nothing waits on a timer.
import { describe, expect, test } from '@jest/globals';
import {
  longestPathFirst,
  schedule,
  type FailureMode,
  type FinalStatus,
  type SchedulerStep,
  type StepOutcome,
} from '../../../src/run/scheduler.js';
import { deferred, FakeSteps, type Deferred } from '../../helpers/fake-scheduler-steps.js';

const DONE: StepOutcome = { state: 'done', ran: true };
const FAILED: StepOutcome = { state: 'failed' };

const step = (id: string, ...needs: string[]): SchedulerStep => ({ id, needs });

interface Run {
  readonly fake: FakeSteps;
  /** "<step> by <needs>" for each onBlocked call, in order. */
  readonly blocked: string[];
  /** Resolves once `id` was reported blocked (the scheduler has seen what blocks it). */
  readonly whenBlocked: (id: string) => Promise<void>;
  readonly errors: unknown[];
  readonly result: Promise<Record<string, FinalStatus['state']>>;
}

function run(
  steps: readonly SchedulerStep[],
  options: {
    jobs?: number;
    onFailure?: FailureMode;
    signal?: AbortSignal;
    fake?: FakeSteps;
    start?: (s: SchedulerStep, signal: AbortSignal) => StepOutcome | Promise<StepOutcome>;
  } = {},
): Run {
  const fake = options.fake ?? new FakeSteps();
  const blocked: string[] = [];
  const blockedOnce = new Map<string, Deferred<undefined>>();
  const blockedOf = (id: string): Deferred<undefined> => {
    const d = blockedOnce.get(id) ?? deferred<undefined>();
    blockedOnce.set(id, d);
    return d;
  };
  const errors: unknown[] = [];
  const result = schedule({
    steps,
    jobs: options.jobs ?? 1,
    onFailure: options.onFailure ?? 'stop',
    signal: options.signal ?? new AbortController().signal,
    start: options.start ?? fake.start,
    onBlocked: (s, by) => {
      blocked.push(`${s.id} by ${by.join(',')}`);
      blockedOf(s.id).resolve(undefined);
    },
    onInternalError: (_s, error) => errors.push(error),
  }).then((map) => Object.fromEntries([...map].map(([id, s]) => [id, s.state])));
  const whenBlocked = (id: string): Promise<void> => blockedOf(id).promise;
  return { fake, blocked, whenBlocked, errors, result };
}

//   a ── b ── c        x ── y        (independent branches)
const TWO_BRANCHES = [step('a'), step('x'), step('b', 'a'), step('y', 'x'), step('c', 'b')];

describe('scheduler', () => {
  test('starts a step only after all its needs are done, in graph order', async () => {
    //     a
    //    / \
    //   b   c   e
    //    \ /
    //     d
    const steps = [step('a'), step('b', 'a'), step('c', 'a'), step('d', 'b', 'c'), step('e')];
    const { fake, result } = run(steps, { jobs: 4 });
    await Promise.all([fake.whenStarted('a'), fake.whenStarted('e')]);
    expect(fake.running()).toEqual(['a', 'e']);
    fake.finish('a');
    await Promise.all([fake.whenStarted('b'), fake.whenStarted('c')]);
    expect(fake.running()).toEqual(['e', 'b', 'c']);
    fake.finish('b');
    fake.finish('c');
    await fake.whenStarted('d');
    fake.finish('d');
    fake.finish('e');
    expect(await result).toEqual({ a: 'done', b: 'done', c: 'done', d: 'done', e: 'done' });
    const at = (line: string): number => fake.journal.indexOf(line);
    for (const s of steps)
      for (const need of s.needs) expect(at(`end ${need}`)).toBeLessThan(at(`start ${s.id}`));
  });

  test('runs at most `jobs` steps at a time, and that many when it can', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    const { fake, result } = run(
      ids.map((id) => step(id)),
      { jobs: 2 },
    );
    for (const pair of [
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ] as const) {
      await Promise.all(pair.map((id) => fake.whenStarted(id)));
      expect(fake.running()).toEqual(pair);
      fake.finish(pair[1]);
      fake.finish(pair[0]);
    }
    expect(Object.values(await result)).toEqual(ids.map(() => 'done'));
    expect(fake.maxRunning).toBe(2);
  });

  test('an outcome returned at once takes no slot; its dependents start in the same pass', async () => {
    // a is up to date, so with one slot both b (after a) and then c get their turn.
    const fake = new FakeSteps({ now: { a: { state: 'done', ran: false } } });
    const { result } = run([step('a'), step('b', 'a'), step('c')], { jobs: 1, fake });
    expect(fake.journal).toEqual(['start a', 'start b']);
    fake.finish('b');
    await fake.whenStarted('c');
    fake.finish('c');
    expect(await result).toEqual({ a: 'done', b: 'done', c: 'done' });
  });

  test("'continue': a failure blocks its dependents only; the other branch runs on", async () => {
    const { fake, blocked, whenBlocked, result } = run(TWO_BRANCHES, {
      jobs: 2,
      onFailure: 'continue',
    });
    const xSignal = await fake.whenStarted('x');
    fake.finish('a', FAILED);
    await whenBlocked('b');
    expect(xSignal.aborted).toBe(false);
    fake.finish('x');
    await fake.whenStarted('y');
    fake.finish('y');
    expect(await result).toEqual({ a: 'failed', x: 'done', b: 'blocked', y: 'done', c: 'blocked' });
    expect(blocked).toEqual(['b by a', 'c by b']);
  });

  test("'stop': after a failure nothing new starts; running steps finish", async () => {
    const { fake, blocked, whenBlocked, result } = run(TWO_BRANCHES, {
      jobs: 2,
      onFailure: 'stop',
    });
    const xSignal = await fake.whenStarted('x');
    fake.finish('a', FAILED);
    await whenBlocked('b');
    // x is left running; finishing it must not start y.
    expect(xSignal.aborted).toBe(false);
    fake.finish('x');
    expect(await result).toEqual({
      a: 'failed',
      x: 'done',
      b: 'blocked',
      y: 'not-started',
      c: 'blocked',
    });
    expect(fake.journal).not.toContain('start y');
    expect(blocked).toEqual(['b by a', 'c by b']);
  });

  test("'kill': a failure aborts the running steps; their dependents are blocked", async () => {
    const { fake, blocked, result } = run(TWO_BRANCHES, { jobs: 2, onFailure: 'kill' });
    const xSignal = await fake.whenStarted('x');
    fake.finish('a', FAILED);
    expect(await result).toEqual({
      a: 'failed',
      x: 'canceled',
      b: 'blocked',
      y: 'blocked',
      c: 'blocked',
    });
    expect(xSignal.aborted).toBe(true);
    expect(xSignal.reason).toEqual(new Error('another step failed'));
    expect([...blocked].sort()).toEqual(['b by a', 'c by b', 'y by x']);
  });

  test('a step that cannot start stops new starts under stop, but aborts nothing under kill', async () => {
    for (const onFailure of ['stop', 'kill'] as const) {
      const fake = new FakeSteps({ now: { a: { state: 'blocked' } } });
      const { result } = run([step('x'), step('a'), step('b', 'a'), step('y')], {
        jobs: 2,
        onFailure,
        fake,
      });
      const xSignal = await fake.whenStarted('x');
      expect(xSignal.aborted).toBe(false);
      fake.finish('x');
      expect(await result).toEqual({ x: 'done', a: 'blocked', b: 'blocked', y: 'not-started' });
    }
  });

  test('aborting the run cancels the running steps and everything not started', async () => {
    const controller = new AbortController();
    const { fake, blocked, result } = run([step('a'), step('b', 'a'), step('c')], {
      jobs: 1,
      signal: controller.signal,
    });
    const aSignal = await fake.whenStarted('a');
    const reason = new Error('interrupted by SIGINT');
    controller.abort(reason);
    expect(aSignal.reason).toBe(reason);
    expect(await result).toEqual({ a: 'canceled', b: 'blocked', c: 'canceled' });
    expect(fake.journal).toEqual(['start a', 'end a']);
    expect(blocked).toEqual(['b by a']);
  });

  test('a step whose own start aborts the run gets an aborted signal too', async () => {
    const controller = new AbortController();
    const fake = new FakeSteps();
    const start = (s: SchedulerStep, signal: AbortSignal): StepOutcome | Promise<StepOutcome> => {
      const outcome = fake.start(s, signal);
      controller.abort(new Error('interrupted'));
      return outcome;
    };
    const { result } = run([step('a'), step('b')], { signal: controller.signal, start, fake });
    expect(await result).toEqual({ a: 'canceled', b: 'canceled' });
    expect(fake.signals.get('a')?.aborted).toBe(true);
  });

  test('a run aborted before it begins starts nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const { fake, result } = run([step('a'), step('b', 'a')], { signal: controller.signal });
    expect(await result).toEqual({ a: 'canceled', b: 'canceled' });
    expect(fake.journal).toEqual([]);
  });

  test('a start that throws or rejects is an internal error, handled like a failure', async () => {
    const thrown = new Error('bug in start');
    const rejected = new Error('bug in a step');
    const fake = new FakeSteps();
    const start = (s: SchedulerStep, signal: AbortSignal): StepOutcome | Promise<StepOutcome> => {
      if (s.id === 'a') throw thrown;
      if (s.id === 'x') return Promise.reject(rejected);
      return fake.start(s, signal);
    };
    const { blocked, errors, result } = run(
      [step('a'), step('x'), step('b', 'a'), step('y', 'x'), step('z')],
      { jobs: 2, onFailure: 'continue', start, fake },
    );
    await fake.whenStarted('z');
    fake.finish('z');
    expect(await result).toEqual({
      a: 'internal-error',
      x: 'internal-error',
      b: 'blocked',
      y: 'blocked',
      z: 'done',
    });
    expect(errors).toEqual([thrown, rejected]);
    expect(blocked).toEqual(['b by a', 'y by x']);
  });

  test("an internal error under 'stop' starts nothing new", async () => {
    const start = (s: SchedulerStep): Promise<StepOutcome> =>
      s.id === 'a' ? Promise.reject(new Error('bug')) : Promise.resolve(DONE);
    const { result } = run([step('a'), step('b')], { jobs: 1, onFailure: 'stop', start });
    expect(await result).toEqual({ a: 'internal-error', b: 'not-started' });
  });
});

describe('longestPathFirst', () => {
  // The paravirtual graph's tail after customize: the kernel's chain has more steps, the
  // root file system's chain (through the boot test) more time.
  const graph = [
    step('customize'),
    step('extract-kernel', 'customize'),
    step('extract-ramdisk', 'customize'),
    step('bundle-kernel', 'extract-kernel'),
    step('register-kernel', 'bundle-kernel'),
    step('extract-rootfs', 'customize'),
    step('bundle-machine', 'extract-rootfs'),
    step('boot-test', 'extract-rootfs'),
    step('register-machine', 'bundle-machine', 'boot-test', 'register-kernel'),
  ];
  const ms: Record<string, number> = { 'boot-test': 25_000, 'extract-rootfs': 5_000 };
  const weight = (s: SchedulerStep): number => ms[s.id] ?? 1000;

  test('the step on the longest remaining path comes first, and needs still come before dependents', () => {
    const order = longestPathFirst(graph, weight).map((s) => s.id);
    expect(order.indexOf('extract-rootfs')).toBeLessThan(order.indexOf('extract-kernel'));
    expect(order.indexOf('boot-test')).toBeLessThan(order.indexOf('bundle-machine'));
    for (const s of graph)
      for (const need of s.needs) expect(order.indexOf(need)).toBeLessThan(order.indexOf(s.id));
    expect(order).toHaveLength(graph.length);
  });

  test('equal paths keep the given order; a zero or negative weight counts as 1', () => {
    const flat = [step('a'), step('b'), step('c')];
    expect(longestPathFirst(flat, () => 0).map((s) => s.id)).toEqual(['a', 'b', 'c']);
    const chain = [step('x'), step('y', 'x')];
    expect(longestPathFirst(chain, () => -5).map((s) => s.id)).toEqual(['x', 'y']);
  });

  test('given to schedule() with one slot, the critical path starts first', async () => {
    const started: string[] = [];
    const start = (s: SchedulerStep): Promise<StepOutcome> => {
      started.push(s.id);
      return Promise.resolve(DONE);
    };
    await run(longestPathFirst(graph, weight), { jobs: 1, start }).result;
    expect(started).toEqual([
      'customize',
      'extract-rootfs', // 5 s + the boot test's 25 s ahead of it
      'boot-test',
      'extract-kernel', // three 1 s steps ahead of it
      'bundle-kernel',
      'register-kernel', // ties with bundle-machine (2 s each): the graph's order
      'bundle-machine',
      'extract-ramdisk',
      'register-machine',
    ]);
    // In the graph's own order the kernel's extraction would have taken the slot first.
    started.length = 0;
    await run(graph, { jobs: 1, start }).result;
    expect(started.indexOf('extract-kernel')).toBeLessThan(started.indexOf('extract-rootfs'));
  });
});
