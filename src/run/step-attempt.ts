// One attempt at a step and how it ends: the run-wide environment a step runs in, and the
// failure and cancel reports (log line plus event) that run-step.ts and checkpoint.ts share.
import { describeFsFailure, fsFailureOf } from '../core/fs-failure.js';
import type { Exec } from '../tools/exec.js';
import type { StepFailure, StepKinds, StepSpec } from '../plan/step.js';
import type { EventSink } from './events.js';
import { logPath } from './layout.js';
import type { StepOutcome } from './scheduler.js';
import type { StepLog } from './step-log.js';
import type { StateStore } from './state.js';

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
  readonly clock: () => number;
}

/** One attempt at one step: where its lines go, when it started, what stops it. */
export interface StepAttempt {
  readonly env: StepRunEnv;
  readonly step: StepSpec;
  readonly log: StepLog;
  readonly t0: number;
  readonly signal: AbortSignal;
}

/** Reports `failure` (log line and step-failed event): the step failed. */
export function failStep(attempt: StepAttempt, failure: StepFailure): StepOutcome {
  const { env, step, log } = attempt;
  log.write(`# failed: ${failure.message}\n`);
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
  where: { readonly action: string; readonly path?: string },
): StepOutcome | undefined {
  const failure = fsFailureOf(error, where.path);
  if (!failure) return undefined;
  const { id } = attempt.step;
  return failStep(attempt, {
    reason: 'io-error',
    message: `step ${id}: ${describeFsFailure(failure, { action: where.action, elsewhere: 'use another work directory (--work-dir DIR)' })} Finished steps are kept; run the same command again to resume.`,
  });
}

/** Reports that `signal` stopped the step (step-canceled event). */
export function cancelStep(attempt: StepAttempt): StepOutcome {
  const { env, step } = attempt;
  env.emit({ type: 'step-canceled', id: step.id, logPath: logPath(env.workDir, step.id) });
  return { state: 'canceled' };
}
