// Runs one step the planner decided must run: opens its log, drops its old record, gives
// its kind an empty partial directory and its needs' outputs, then checkpoints the result
// (checkpoint.ts). Reports through events; never throws. What runs when is scheduler.ts's.
import { rm } from 'node:fs/promises';
import { makeDirectories } from '../core/fs-failure.js';
import type { StepDecision } from '../plan/plan.js';
import type { StepId, StepOutputs, StepSpec } from '../plan/step.js';
import { checkpointStep } from './checkpoint.js';
import { failOnNeed } from './cache-restore.js';
import { err, ok, type Result } from '../core/result.js';
import type { StepOutcome } from './scheduler.js';
import {
  cancelStep,
  failStep,
  failStepOnFs,
  failStepOnStore,
  recordsOf,
  type StepAttempt,
  type StepRunEnv,
} from './step-attempt.js';
import { NO_LOG, openLog } from './step-log.js';
import { logPath, partialDir, stepDir } from './layout.js';
import { statePath, withStep } from './state.js';
import { internalStepFailure, stepFailure } from '../plan/step-failure.js';

/**
 * Runs `step` (whose decision is 'run') until it succeeds, fails or `signal` aborts it.
 * Its kind's exceptions become failures: file-system ones name the path, others are an
 * internal error asking for a report. Never rejects unless the event sink throws.
 */
export async function runStep(
  env: StepRunEnv,
  step: StepSpec,
  decision: StepDecision,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const path = logPath(env.workDir, step.id);
  const opened = await openLog(path);
  const log = opened.ok ? opened.value : NO_LOG;
  const later: Promise<void>[] = [];
  const attempt: StepAttempt = { env, step, log, t0: env.clock(), signal, later };
  env.emit({
    type: 'step-started',
    id: step.id,
    kind: step.kind,
    summary: decision.description.summary,
    cause: decision.cause,
    reasons: decision.reasons,
  });
  log.write(
    `# ${new Date().toISOString()} ${step.id} (${step.kind}): ${decision.description.summary}\n`,
  );
  for (const reason of decision.reasons) log.write(`# why: ${reason}\n`);
  try {
    if (!opened.ok)
      return (
        failStepOnFs(attempt, opened.error, { action: 'create its log', path }) ??
        failStep(
          attempt,
          stepFailure('input', 'log-unwritable', `cannot create its log: ${String(opened.error)}`, {
            path,
          }),
        )
      );
    return await runKind(attempt, decision);
  } catch (error) {
    if (signal.aborted) return cancelStep(attempt);
    // A write(2) error names no file: the work directory is where the disk ran out.
    const failed = failStepOnFs(attempt, error, { action: 'write', fallbackPath: env.workDir });
    if (failed) return failed;
    return failStep(attempt, internalStepFailure(error)); // not the machine's fault: a bug
  } finally {
    // A background upload writes to the log until it ends; the run waits for both.
    if (later.length === 0 || env.background === undefined) await log.close();
    else env.background.add(Promise.allSettled(later).then(() => log.close()));
  }
}

/** Prepares the step's directory and needs, calls its kind, and checkpoints what it made. */
async function runKind(attempt: StepAttempt, planned: StepDecision): Promise<StepOutcome> {
  const { env, step, log, signal } = attempt;
  const kind = env.kinds.get(step.id);
  const ready = await ensureNeeds(attempt);
  if (!ready.ok) return ready.error;
  // A need that ran again here may have made other outputs: decide again with them.
  const again = ready.value ? env.redecide?.(step) : undefined;
  const decision = again?.verdict === 'run' ? again : planned;
  const { fingerprint, components } = decision;
  if (!kind || fingerprint === undefined || components === undefined) {
    return failStep(
      attempt,
      stepFailure(
        'input',
        'not-runnable',
        `step kind '${step.kind}' cannot run: ${decision.reasons.join('; ')}`,
      ),
    );
  }
  const dropped = await dropRecord(attempt);
  if (dropped) return dropped;
  const outDir = partialDir(env.workDir, step.id);
  await rm(outDir, { recursive: true, force: true });
  await makeDirectories(outDir); // (not recursive mkdir: it hides EROFS/ENOSPC as ENOENT)
  const needs = needOutputs(env, step);
  const resolved = kind.resolve((id) => needs.get(id as StepId)?.values);
  if (!resolved.ok) {
    const m = resolved.error;
    return failStep(
      attempt,
      stepFailure(
        'input',
        'missing-output',
        `\${steps.${m.step}.${m.output}} names an output that step ${m.step} does not have (it has: ${m.available.join(', ') || 'none'}); fix the recipe`,
      ),
    );
  }
  let result;
  try {
    result = await resolved.value.run({
      signal,
      log: (line) => {
        log.write(`${line}\n`);
        env.emit({ type: 'step-log', id: step.id, line });
      },
      progress: (update) => {
        env.emit({ type: 'step-progress', id: step.id, update });
      },
      workDir: env.workDir,
      outDir,
      needs,
      secrets: env.secrets,
      exec: env.exec,
      accel: env.accel,
      cores: env.cores,
    });
  } catch (error) {
    return thrownByKind(attempt, error, outDir);
  }
  if (!result.ok && signal.aborted) {
    log.write('# canceled\n');
    return cancelStep(attempt);
  }
  if (!result.ok) return failStep(attempt, result.error);
  // A kind that returned its outputs finished its work, even when Ctrl-C came in the same
  // moment: it is kept (checkpointed to the end, whatever the signal), not run again.
  return checkpointStep(attempt, { outDir, fingerprint, components, outputs: result.value });
}

/**
 * The files of the step's needs here (downloaded from the step cache, or their step run
 * again): true when a need ran again, or the step's failure (canceled when aborted).
 */
async function ensureNeeds(attempt: StepAttempt): Promise<Result<boolean, StepOutcome>> {
  const { env, step, signal } = attempt;
  let reran = false;
  if (env.readsValuesOnly?.has(step.kind) === true) return ok(false);
  for (const need of step.needs) {
    const ensured = await env.ensureNeed?.(need, signal);
    if (ensured === undefined) continue;
    if (ensured.ok) {
      reran ||= ensured.value.reran;
      continue;
    }
    if (signal.aborted) return err(cancelStep(attempt));
    return err(failOnNeed(attempt, { need, detail: ensured.error }));
  }
  return ok(reran);
}

/**
 * Deletes the step's record before it starts: a crash from here on leaves the step "not
 * done". Returns the failure when the state cannot be written for a file-system reason.
 */
async function dropRecord(attempt: StepAttempt): Promise<StepOutcome | undefined> {
  const { env, step } = attempt;
  if (!env.store.current.steps[step.id]) return undefined;
  try {
    await env.store.update((state) => withStep(state, step.id, undefined));
    return undefined;
  } catch (error) {
    const failed =
      failStepOnStore(attempt, error) ??
      failStepOnFs(attempt, error, { action: 'write', path: statePath(env.workDir) });
    if (failed) return failed;
    throw error;
  }
}

/** The recorded outputs of the step's needs, with each one's final directory. */
function needOutputs(env: StepRunEnv, step: StepSpec): Map<StepId, StepOutputs & { dir: string }> {
  const records = recordsOf(env);
  const needs = new Map<StepId, StepOutputs & { dir: string }>();
  for (const need of step.needs) {
    const record = records[need];
    if (!record) continue;
    needs.set(need, {
      artifacts: Object.fromEntries(
        Object.entries(record.artifacts).map(([name, a]) => [name, a.file]),
      ),
      values: record.values,
      dir: stepDir(env.workDir, need),
    });
  }
  return needs;
}

/** An exception from a kind's run(): a full or read-only disk it did not expect, or a bug. */
function thrownByKind(attempt: StepAttempt, error: unknown, outDir: string): StepOutcome {
  // A failed write(2) names no file: then the step's output directory, its writable place.
  const failed = failStepOnFs(attempt, error, { action: 'write', fallbackPath: outDir });
  if (failed) return failed;
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  attempt.log.write(`# internal error: ${stack}\n`);
  return failStep(attempt, internalStepFailure(error));
}
