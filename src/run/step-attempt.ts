// One attempt at a step and how it ends: the run-wide environment a step runs in, and the
// failure and cancel reports (log line plus event) that run-step.ts and checkpoint.ts share.
import type { CoreShare } from '../core/core-share.js';
import { fsFailureOf } from '../core/fs-failure.js';
import type { Exec } from '../tools/exec.js';
import type { Result } from '../core/result.js';
import type { StepFailure, StepId, StepKinds, StepSpec } from '../plan/step.js';
import type { StepCache } from './step-cache.js';
import type { StepDecision } from '../plan/plan.js';
import type { EventSink } from './events.js';
import { logPath } from './layout.js';
import type { StepOutcome } from './scheduler.js';
import type { StepLog } from './step-log.js';
import type { StateStore, StepRecord } from './state.js';
import type { DeferredRecords } from './deferred-records.js';
import { StoreWriteError } from './store.js';
import { describeStepFailure, fsStepFailure, stepFailure } from '../plan/step-failure.js';

/** What running a step needs from the run: the same for every step of it. */
export interface StepRunEnv {
  /** The kind of each step, bound to its params, by step id. */
  readonly kinds: StepKinds;
  readonly store: StateStore;
  readonly workDir: string;
  readonly emit: EventSink;
  readonly exec: Exec;
  readonly secrets: ReadonlyMap<string, string>;
  /** The run's accelerator, probed at most once per run. */
  readonly accel: () => Promise<'kvm' | 'tcg'>;
  /** The host's cores, shared by the run's steps. */
  readonly cores: CoreShare;
  readonly clock: () => number;
  /** The shared store's step cache (none for the work directory). */
  readonly cache?: StepCache;
  /**
   * Makes the files of `need` be here before a step that reads them runs: downloads them
   * from the cache, or, when the cache cannot give them back, runs `need` again here.
   * Once per need and run (concurrent readers share it). Undefined: nothing to do.
   */
  readonly ensureNeed?: (
    need: StepId,
    signal: AbortSignal,
  ) => Promise<Result<{ readonly reran: boolean }, string>>;
  /** Kinds that read only their needs' values (plan.ts PlanFacts.readsValuesOnly). */
  readonly readsValuesOnly?: ReadonlySet<string>;
  /** The step's decision now, from the records written so far (after a need ran again). */
  readonly redecide?: (step: StepSpec) => StepDecision;
  /**
   * With a step cache: steps count as done here as soon as their files are in place, and
   * their upload and state record follow in the background (deferred-records.ts). Absent:
   * each step is uploaded and recorded before it counts as done.
   */
  readonly background?: DeferredRecords;
}

/** The step records the run sees: the store's, and those still being written to it. */
export function recordsOf(env: StepRunEnv): Readonly<Record<string, StepRecord>> {
  const stored = env.store.current.steps;
  return env.background?.records(stored) ?? stored;
}

/** One attempt at one step: where its lines go, when it started, what stops it. */
export interface StepAttempt {
  readonly env: StepRunEnv;
  readonly step: StepSpec;
  readonly log: StepLog;
  readonly t0: number;
  readonly signal: AbortSignal;
  /** Work the step left running in the background (its log is closed once it ends). */
  readonly later: Promise<void>[];
}

/** Reports `failure` (log line and step-failed event): the step failed. */
export function failStep(attempt: StepAttempt, failure: StepFailure): StepOutcome {
  const { env, step, log } = attempt;
  log.write(`# failed: ${describeStepFailure(failure)}\n`);
  env.emit({
    type: 'step-failed',
    id: step.id,
    durationMs: env.clock() - attempt.t0,
    failure,
    logPath: logPath(env.workDir, step.id),
  });
  return { state: 'failed' };
}

/** A file-system failure (ENOSPC, EROFS…) of `path` as a step failure, or undefined. */
export function failStepOnFs(
  attempt: StepAttempt,
  error: unknown,
  where: { readonly action: string; readonly path?: string; readonly fallbackPath?: string },
): StepOutcome | undefined {
  const failure = fsFailureOf(error, where.path, where.fallbackPath);
  if (!failure) return undefined;
  return failStep(attempt, fsStepFailure(failure, where.action));
}

/**
 * A remote store that refused or failed to record the step (a lost compare-and-swap, a
 * lost lock, an unreachable server) as the step's failure, or undefined for other errors.
 * The step's own work is done but not recorded: the next apply runs it again.
 */
export function failStepOnStore(attempt: StepAttempt, error: unknown): StepOutcome | undefined {
  if (!(error instanceof StoreWriteError)) return undefined;
  return failStep(
    attempt,
    stepFailure(
      'cloud',
      error.failure.reason,
      `the state store refused the write: ${error.message}`,
    ),
  );
}

/** Reports that `signal` stopped the step (step-canceled event). */
export function cancelStep(attempt: StepAttempt): StepOutcome {
  const { env, step } = attempt;
  env.emit({ type: 'step-canceled', id: step.id, logPath: logPath(env.workDir, step.id) });
  return { state: 'canceled' };
}
