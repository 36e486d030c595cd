// Checkpoints a step that succeeded: hashes its artifacts, renames its partial directory
// into place, then (with a step cache, after its upload) records it in the state: after the
// rename, so a record always has its files. With a step cache the upload and the record
// follow in the background (deferred-records.ts) while the dependents already run. A
// checkpoint is whole or absent; what ran the step is run-step.ts's business.
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import { fsyncDirectory } from '../core/atomic-write.js';
import type { JsonValue, StepOutputs } from '../plan/step.js';
import { hashFile, statIdentity } from './file-identity.js';
import { artifactsRoot, stepDir } from './layout.js';
import { memoPath, rememberFiles } from './artifact-memo.js';
import type { StepOutcome } from './scheduler.js';
import { failStep, failStepOnFs, failStepOnStore, type StepAttempt } from './step-attempt.js';
import { statePath, withStep, type ArtifactRecord, type StepRecord } from './state.js';
import { internalStepFailure, stepFailure } from '../plan/step-failure.js';

/** Digest of a step's outputs, which its dependents' fingerprints include. */
export function outputDigestOf(
  artifacts: Readonly<Record<string, { readonly sha256: string }>>,
  values: Readonly<Record<string, JsonValue>>,
): string {
  const files = Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, a.sha256]));
  return sha256Hex(canonicalJson({ artifacts: files, values }));
}

/** What a successful run() left: where, what it reported, and the decision's fingerprint. */
export interface StepResult {
  readonly outDir: string;
  readonly fingerprint: StepRecord['fingerprint'];
  readonly components: StepRecord['components'];
  readonly outputs: StepOutputs;
}

/**
 * Records the step as done and emits step-succeeded. A reported artifact that is missing
 * is a failure (a bug in the kind); a state write that fails for a file-system reason is
 * a failure naming state.json, one a remote store refused is a failure saying why. Other errors reach run-step.ts's catch.
 */
export async function checkpointStep(
  attempt: StepAttempt,
  result: StepResult,
): Promise<StepOutcome> {
  const { env, step, t0 } = attempt;
  const { values } = result.outputs;
  const artifacts: Record<string, ArtifactRecord> = {};
  for (const [name, file] of Object.entries(result.outputs.artifacts)) {
    const path = join(result.outDir, file);
    const identity = await statIdentity(path);
    if (!identity)
      return failStep(
        attempt,
        stepFailure(
          'internal',
          'missing-artifact',
          `step ${step.id} reported artifact ${name} (${file}) but did not write it`,
        ),
      );
    // Not stopped by the run's abort: the step's work is done, and Ctrl-C keeps it.
    artifacts[name] = { file, ...identity, sha256: await hashFile(path) };
  }
  const final = stepDir(env.workDir, step.id);
  await rm(final, { recursive: true, force: true });
  await rename(result.outDir, final);
  await fsyncDirectory(artifactsRoot(env.workDir));
  try {
    await rememberFiles(env.workDir, step.id, final, Object.values(artifacts));
  } catch (error) {
    const failed = failStepOnFs(attempt, error, {
      action: 'write',
      fallbackPath: memoPath(env.workDir, step.id),
    });
    if (failed) return failed;
    throw error;
  }
  const outputDigest = outputDigestOf(artifacts, values);
  const saved = { fingerprint: result.fingerprint, artifacts, values, outputDigest };
  const record: StepRecord = {
    kind: step.kind,
    fingerprint: result.fingerprint,
    components: result.components,
    artifacts,
    values,
    outputDigest,
    startedAt: new Date(t0).toISOString(),
    finishedAt: new Date(env.clock()).toISOString(),
  };
  const cached = env.cache?.caches(step.kind) === true;
  const deferred = env.background;
  if (deferred !== undefined) {
    // Done here now: the dependents start on its files. Its upload runs meanwhile, and its
    // record is written once the upload has ended and its needs' records are written.
    // Its own warning on an unexpected error: the upload never fails the step.
    const upload = cached
      ? saveToCache(attempt, saved, final, deferred.signal).catch((error: unknown) => {
          const message = `its outputs were not saved to the step cache: ${String(error)}. The build goes on.`;
          env.emit({ type: 'step-warning', id: step.id, message });
        })
      : undefined;
    const written = deferred.hold(
      step.id,
      step.needs,
      record,
      async () => {
        try {
          await upload;
          return await recordStep(attempt, record);
        } catch (error) {
          failStep(attempt, internalStepFailure(error)); // not the store's refusal: a bug
          return false;
        }
      },
      (needs) => {
        failStep(
          attempt,
          stepFailure(
            'cloud',
            'need-not-recorded',
            `it finished, but is not recorded: ${needs.join(', ')}, which it needs, could not be recorded in the state. Run apply again.`,
          ),
        );
      },
    );
    attempt.later.push(written.then(() => undefined));
    return { state: 'done', ran: true };
  }
  // The cache before the state: "done in the store" then implies "in the cache", and a
  // run killed in between leaves an entry whose blobs are whole, never the reverse.
  if (cached) await saveToCache(attempt, saved, final, attempt.signal);
  return (await recordStep(attempt, record)) ? { state: 'done', ran: true } : { state: 'failed' };
}

/**
 * Writes the step's record to the state and reports it done (true), or reports why the
 * state could not be written (false): a file-system failure names state.json, a remote
 * store's refusal says why. Other errors are thrown.
 */
async function recordStep(attempt: StepAttempt, record: StepRecord): Promise<boolean> {
  const { env, step, log, t0 } = attempt;
  try {
    await env.store.update((state) => withStep(state, step.id, record));
  } catch (error) {
    const failed =
      failStepOnStore(attempt, error) ??
      failStepOnFs(attempt, error, {
        action: 'record the step in',
        path: statePath(env.workDir),
      });
    if (failed) return false;
    throw error;
  }
  log.write(`# done in ${String(env.clock() - t0)} ms\n`);
  env.emit({
    type: 'step-succeeded',
    id: step.id,
    durationMs: env.clock() - t0,
    values: record.values,
  });
  return true;
}

/**
 * Uploads the step's outputs to the step cache (its blobs, then its entry). A failure is
 * a warning, not the step's: the build goes on, with no entry (a runner that needs these
 * files later runs the step again), like BuildKit's cache export. Ctrl-C stops the upload.
 */
async function saveToCache(
  attempt: StepAttempt,
  outputs: {
    readonly fingerprint: string;
    readonly artifacts: Readonly<Record<string, ArtifactRecord>>;
    readonly values: Readonly<Record<string, JsonValue>>;
    readonly outputDigest: string;
  },
  dir: string,
  signal: AbortSignal,
): Promise<void> {
  const { env, step, log } = attempt;
  const cache = env.cache;
  if (cache === undefined) return;
  const line = (text: string): void => {
    log.write(`${text}\n`);
    env.emit({ type: 'step-log', id: step.id, line: text });
  };
  const t0 = env.clock();
  const saved = await cache.save(
    {
      kind: step.kind,
      fingerprint: outputs.fingerprint,
      artifacts: Object.fromEntries(
        Object.entries(outputs.artifacts).map(([name, a]) => [
          name,
          { file: a.file, sha256: a.sha256, size: a.size },
        ]),
      ),
      values: outputs.values,
      outputDigest: outputs.outputDigest,
    },
    dir,
    { signal, exec: env.exec, log: line, cores: () => env.cores.free() },
  );
  if (saved.ok) {
    line(
      `# cache: saved to ${cache.where} (${String(saved.value.bytesSent)} bytes sent in ${String(env.clock() - t0)} ms)`,
    );
    return;
  }
  const message = `its outputs were not saved to the step cache ${cache.where}: ${saved.error}. The build goes on; another runner that needs them runs ${step.id} again.`;
  log.write(`# warning: ${message}\n`);
  env.emit({ type: 'step-warning', id: step.id, message });
}
