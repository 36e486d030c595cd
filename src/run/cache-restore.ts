// The runner's side of the step cache: a step that must run whose fingerprint the cache
// holds is restored (recorded from the entry, its files left in the cache), and before a
// step runs, the files of its needs that are recorded but not here are downloaded. A file
// the cache cannot give back (missing, corrupt) makes its producing step run again here.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepDecision } from '../plan/plan.js';
import type { StepId, StepSpec } from '../plan/step.js';
import { memoPath, rememberFiles } from './artifact-memo.js';
import { artifactStatus } from './inspect.js';
import { logPath, partialDir, stepDir } from './layout.js';
import type { StepOutcome } from './scheduler.js';
import { statePath, withStep, type ArtifactRecord, type StepRecord } from './state.js';
import {
  failStep,
  failStepOnFs,
  failStepOnStore,
  recordsOf,
  type StepAttempt,
  type StepRunEnv,
} from './step-attempt.js';
import type { CachedOutputs } from './step-cache.js';
import { NO_LOG, openLog } from './step-log.js';
import { stepFailure } from '../plan/step-failure.js';

/**
 * The state's record of a step restored from `entry`. Its files are not here: their stat
 * is unknown (-1), so only their digest identifies them, through this work directory's
 * memo once downloaded (artifact-memo.ts).
 */
export function restoredRecord(
  step: StepSpec,
  decision: StepDecision & {
    readonly fingerprint: string;
    readonly components: NonNullable<StepDecision['components']>;
  },
  entry: CachedOutputs,
  at: string,
): StepRecord {
  const artifacts: Record<string, ArtifactRecord> = {};
  for (const [name, a] of Object.entries(entry.artifacts))
    artifacts[name] = { file: a.file, sha256: a.sha256, size: a.size, mtimeMs: -1, ino: -1 };
  return {
    kind: step.kind,
    fingerprint: decision.fingerprint,
    components: decision.components,
    artifacts,
    values: entry.values,
    outputDigest: entry.outputDigest,
    startedAt: at,
    finishedAt: at,
  };
}

/**
 * Restores `step` from the cache's `entry` instead of running it: drops any files of an
 * older record here, then records the entry's outputs in the state. Never throws for the
 * store's refusals (they fail the step, as for a step that ran).
 */
export async function restoreStep(
  env: StepRunEnv,
  step: StepSpec,
  decision: Parameters<typeof restoredRecord>[1],
  entry: CachedOutputs,
  signal: AbortSignal,
): Promise<StepOutcome> {
  const path = logPath(env.workDir, step.id);
  const opened = await openLog(path);
  const log = opened.ok ? opened.value : NO_LOG;
  const attempt: StepAttempt = { env, step, log, t0: env.clock(), signal, later: [] };
  const reasons = [`restore from the cache (made by recipe ${entry.recipe} at ${entry.created})`];
  env.emit({
    type: 'step-started',
    id: step.id,
    kind: step.kind,
    summary: `restore from the cache ${env.cache?.where ?? ''}`.trim(),
    cause: 'restore',
    reasons,
  });
  try {
    log.write(`# ${new Date().toISOString()} ${step.id} (${step.kind}): restored from the cache\n`);
    log.write(`# why: ${decision.reasons.join('; ')}\n`);
    await rm(stepDir(env.workDir, step.id), { recursive: true, force: true });
    await rm(partialDir(env.workDir, step.id), { recursive: true, force: true });
    await rm(memoPath(env.workDir, step.id), { force: true });
    const record = restoredRecord(step, decision, entry, new Date(env.clock()).toISOString());
    try {
      await env.store.update((state) => withStep(state, step.id, record));
    } catch (error) {
      const failed =
        failStepOnStore(attempt, error) ??
        failStepOnFs(attempt, error, {
          action: 'record the step in',
          path: statePath(env.workDir),
        });
      if (failed) return failed;
      throw error;
    }
    log.write(`# restored: output digest ${entry.outputDigest}\n`);
    env.emit({
      type: 'step-succeeded',
      id: step.id,
      durationMs: env.clock() - attempt.t0,
      values: entry.values,
    });
    return { state: 'done', ran: true };
  } finally {
    await log.close();
  }
}

/** Why a need's files could not be fetched, for the step's log and the re-run's reason. */
export interface FetchProblem {
  readonly need: StepId;
  readonly detail: string;
}

/**
 * Downloads the recorded files of `need` that are not in this work directory, each
 * verified, and remembers their identity here. Ok when all are here (or nothing is
 * recorded); the failure names the file and why (missing or corrupt in the cache…).
 */
export async function fetchNeed(
  env: StepRunEnv,
  need: StepId,
  options: { readonly signal: AbortSignal; readonly log: (line: string) => void },
): Promise<Result<{ bytes: number }, FetchProblem>> {
  const record = recordsOf(env)[need];
  if (!record) return ok({ bytes: 0 });
  const status = await artifactStatus(env.workDir, need, record);
  if (status.missing.length === 0) return ok({ bytes: 0 });
  const cache = env.cache;
  if (cache === undefined)
    return err({ need, detail: `${status.missing[0] ?? ''} and there is no step cache` });
  const dir = stepDir(env.workDir, need);
  await mkdir(dir, { recursive: true });
  let bytes = 0;
  const fetched: { file: string; sha256: string }[] = [];
  for (const [name, artifact] of Object.entries(record.artifacts)) {
    const dest = join(dir, artifact.file);
    if (!status.missing.some((m) => m.startsWith(`artifact ${name} (`))) continue;
    options.log(`cache: downloading ${need}'s ${name} (${artifact.file}, ${artifact.size} bytes)`);
    const got = await cache.fetch(artifact, dest, {
      signal: options.signal,
      exec: env.exec,
      log: options.log,
    });
    if (!got.ok)
      return err({ need, detail: `its ${name} (${artifact.file}): ${got.error.detail}` });
    bytes += got.value.bytesReceived;
    fetched.push({ file: artifact.file, sha256: artifact.sha256 });
  }
  await rememberFiles(env.workDir, need, dir, fetched);
  return ok({ bytes });
}

/** A step's failure because its need could not be fetched nor run again. */
export function failOnNeed(attempt: StepAttempt, problem: FetchProblem): StepOutcome {
  return failStep(
    attempt,
    stepFailure(
      'cloud',
      'cache-fetch',
      `the outputs of ${problem.need} are not in this work directory and could not be fetched from the step cache: ${problem.detail}`,
    ),
  );
}
