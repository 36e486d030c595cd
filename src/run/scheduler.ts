// The scheduler: which step starts next (in the order given, once its needs are done and a
// slot is free; longestPathFirst() makes that order), which are blocked by a need that did
// not finish, and what the failure mode and the run's AbortSignal stop. Pure policy: it
// knows nothing of state, logs or step kinds.
//
//   pending ──needs done, slot free──> start() ──> done | failed | blocked | canceled
//      │                                  └─ throws ──> internal-error
//      ├─ a need failed/blocked/canceled ──> blocked (onBlocked)
//      └─ never started: canceled if the run was aborted, else not-started

/** What to do when a step fails: stop starting steps, continue with independent ones, or also stop running ones. */
export type FailureMode = 'stop' | 'continue' | 'kill';

/** How a started step ended, as its `start` callback reports it. */
export type StepOutcome =
  /** Finished: `ran` is false when it was up to date and did not need a slot. */
  | { readonly state: 'done'; readonly ran: boolean }
  /** Ran and failed: its dependents are blocked; under 'stop'/'kill' nothing new starts. */
  | { readonly state: 'failed' }
  /** Could not start at all: its dependents are blocked; under 'stop'/'kill' nothing new starts. */
  | { readonly state: 'blocked' }
  /** Stopped by its signal: its dependents are blocked. */
  | { readonly state: 'canceled' };

/** Where a step ended up once the schedule is over. */
export type FinalStatus =
  | StepOutcome
  /** `start` threw or its promise rejected: a bug, handled like 'failed'. */
  | { readonly state: 'internal-error'; readonly error: unknown }
  /** Never started because the run stopped after a failure ('stop' or 'kill'). */
  | { readonly state: 'not-started' };

/** What the scheduler needs of a step: its id and the ids it needs (all in the same graph). */
export interface SchedulerStep {
  readonly id: string;
  readonly needs: readonly string[];
}

export interface ScheduleOptions<S extends SchedulerStep> {
  /** Steps in a topological order (needs before dependents): ready steps start in this order. */
  readonly steps: readonly S[];
  /** Most steps running at the same time (at least 1). */
  readonly jobs: number;
  readonly onFailure: FailureMode;
  /** Aborting it starts nothing new and aborts every running step's signal with its reason. */
  readonly signal: AbortSignal;
  /**
   * Starts a ready step. Returns its outcome itself when the step needs no slot (it is up
   * to date, or cannot run), or a promise of it while the step runs in a slot. `signal`
   * aborts when the run is aborted, or under 'kill' when another step fails; the step
   * should then end soon as 'canceled'. It should neither throw nor reject: if it does,
   * the step ends as 'internal-error' and `onInternalError` is told.
   */
  readonly start: (step: S, signal: AbortSignal) => StepOutcome | Promise<StepOutcome>;
  /** `step` will not start because its needs `by` did not finish (in the order of its needs). */
  readonly onBlocked?: (step: S, by: readonly string[]) => void;
  /** `start` threw `error` for `step` (a bug in the caller, reported once per step). */
  readonly onInternalError?: (step: S, error: unknown) => void;
}

/**
 * The steps ordered longest remaining path first: by the sum of the weights (expected
 * durations, > 0) along the longest chain from the step through its dependents to the
 * end of the graph; ties keep the given order. A step's path is longer than any of its
 * dependents', so this is still a topological order. Given to schedule(), whichever
 * ready step the critical path runs through takes a free slot first (the root file
 * system's extraction, which the boot test waits for, before the kernel's). Pure.
 */
export function longestPathFirst<S extends SchedulerStep>(
  steps: readonly S[],
  weight: (step: S) => number,
): S[] {
  const dependents = new Map<string, S[]>(steps.map((s) => [s.id, []]));
  for (const step of steps) for (const need of step.needs) dependents.get(need)?.push(step);
  const length = new Map<string, number>();
  const pathOf = (step: S): number => {
    const known = length.get(step.id);
    if (known !== undefined) return known;
    let longest = 0;
    for (const dependent of dependents.get(step.id) ?? [])
      longest = Math.max(longest, pathOf(dependent));
    const total = Math.max(1, weight(step)) + longest;
    length.set(step.id, total);
    return total;
  };
  // Dependents first (reverse topological order), so the recursion stays shallow.
  for (const step of [...steps].reverse()) pathOf(step);
  return steps
    .map((step, index) => ({ step, index, path: length.get(step.id) ?? 0 }))
    .sort((a, b) => b.path - a.path || a.index - b.index)
    .map(({ step }) => step);
}

type Status = FinalStatus | { readonly state: 'pending' } | { readonly state: 'running' };

const isBroken = (status: Status | undefined): boolean =>
  status?.state === 'failed' ||
  status?.state === 'internal-error' ||
  status?.state === 'blocked' ||
  status?.state === 'canceled';

/**
 * Runs every step that can run, at most `jobs` at a time, and resolves once none is
 * running and none can start. The map lists every step, in the order of `steps`.
 * Rejects only if `onBlocked` or `onInternalError` throws.
 */
export async function schedule<S extends SchedulerStep>(
  options: ScheduleOptions<S>,
): Promise<ReadonlyMap<string, FinalStatus>> {
  const { steps, signal } = options;
  const status = new Map<string, Status>(steps.map((s) => [s.id, { state: 'pending' }]));
  const running = new Map<string, { controller: AbortController; task: Promise<void> }>();
  let stopping = signal.aborted;

  const settle = (step: S, outcome: FinalStatus): void => {
    status.set(step.id, outcome);
    const failed = outcome.state === 'failed' || outcome.state === 'internal-error';
    if ((failed || outcome.state === 'blocked') && options.onFailure !== 'continue')
      stopping = true;
    if (failed && options.onFailure === 'kill')
      for (const other of running.values())
        other.controller.abort(new Error('another step failed'));
    if (outcome.state === 'internal-error') options.onInternalError?.(step, outcome.error);
  };

  const begin = (step: S): void => {
    const controller = new AbortController();
    let started: StepOutcome | Promise<StepOutcome>;
    try {
      started = options.start(step, controller.signal);
    } catch (error) {
      settle(step, { state: 'internal-error', error });
      return;
    }
    if (!(started instanceof Promise)) {
      settle(step, started);
      return;
    }
    status.set(step.id, { state: 'running' });
    const end = (outcome: FinalStatus): void => {
      running.delete(step.id);
      settle(step, outcome);
    };
    const task = started.then(end, (error: unknown) => {
      end({ state: 'internal-error', error });
    });
    running.set(step.id, { controller, task });
    // `start` itself may have aborted the run, before this step was in `running`.
    if (signal.aborted) controller.abort(signal.reason);
  };

  /** Blocks and starts steps until nothing changes. */
  const advance = (): void => {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const step of steps) {
        if (status.get(step.id)?.state !== 'pending') continue;
        const by = step.needs.filter((need) => isBroken(status.get(need)));
        if (by.length > 0) {
          status.set(step.id, { state: 'blocked' });
          options.onBlocked?.(step, by);
          progressed = true;
          continue;
        }
        const ready = step.needs.every((need) => status.get(need)?.state === 'done');
        if (!ready || stopping || running.size >= options.jobs) continue;
        begin(step);
        progressed = true;
      }
    }
  };

  const onAbort = (): void => {
    stopping = true;
    for (const { controller } of running.values()) controller.abort(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    advance();
    while (running.size > 0) {
      await Promise.race([...running.values()].map((r) => r.task));
      advance();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  const never: FinalStatus = { state: signal.aborted ? 'canceled' : 'not-started' };
  return new Map(
    [...status].map(([id, s]) => [id, s.state === 'pending' || s.state === 'running' ? never : s]),
  );
}
