// The runner: executes the graph's steps, in parallel where needs allow, deciding each
// step just before it would start (so a re-run upstream step that produced the same
// outputs leaves its dependents up to date). Checkpoints each finished step in the state.
// It knows nothing of what steps do: it calls their StepKind.
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from '../core/hash.js';
import { fsyncDirectory } from '../core/atomic-write.js';
import { describeFsFailure, fsFailureOf, makeDirectories } from '../core/fs-failure.js';
import type { Exec } from '../tools/exec.js';
import { decideStep, type PlanFacts, type StepDecision } from '../plan/plan.js';
import type { StepGraph } from '../plan/graph.js';
import type {
  JsonValue,
  StepFailure,
  StepId,
  StepKinds,
  StepOutputs,
  StepSpec,
} from '../plan/step.js';
import type { EventSink, RunOutcome, RunSummary } from './events.js';
import { hashFile, statIdentity } from './file-identity.js';
import { NO_LOG, openLog } from './step-log.js';
import { artifactsRoot, logPath, logsDir, partialDir, stepDir } from './layout.js';
import {
  statePath,
  withStep,
  type ArtifactRecord,
  type StateStore,
  type StepRecord,
} from './state.js';

/** What to do when a step fails: stop starting steps, continue with independent ones, or also stop running ones. */
export type FailureMode = 'stop' | 'continue' | 'kill';

export interface RunnerOptions {
  readonly graph: StepGraph;
  /** The kind of each step, bound to its params, by step id. */
  readonly kinds: StepKinds;
  readonly store: StateStore;
  /** From inspect(); `records` are taken from the store as the run goes. */
  readonly facts: PlanFacts;
  readonly workDir: string;
  readonly jobs: number;
  readonly onFailure: FailureMode;
  readonly signal: AbortSignal;
  readonly emit: EventSink;
  readonly exec: Exec;
  readonly secrets: ReadonlyMap<string, string>;
  /** Decides the VM accelerator (called at most once per run, when a step asks). */
  readonly probeAccel: (signal: AbortSignal) => Promise<'kvm' | 'tcg'>;
  /** Called for each step line when the user asked for tool output (--verbose). */
  readonly clock?: () => number;
}

type Status =
  | { readonly state: 'pending' }
  | { readonly state: 'running' }
  | { readonly state: 'done'; readonly ran: boolean }
  | { readonly state: 'failed' | 'blocked' | 'canceled' };

/** Digest of a step's outputs, which its dependents' fingerprints include. */
export function outputDigestOf(
  artifacts: Readonly<Record<string, ArtifactRecord>>,
  values: Readonly<Record<string, JsonValue>>,
): string {
  const files = Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, a.sha256]));
  return sha256Hex(canonicalJson({ artifacts: files, values }));
}

/** Runs the graph to completion, failure or cancellation. Never rejects. */
export async function runGraph(
  options: RunnerOptions,
): Promise<{ outcome: RunOutcome; summary: RunSummary }> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const status = new Map<StepId, Status>(
    options.graph.steps.map((s) => [s.id, { state: 'pending' }]),
  );
  const running = new Map<StepId, Promise<void>>();
  const stepControllers = new Map<StepId, AbortController>();
  let stopping = false;
  let accel: Promise<'kvm' | 'tcg'> | undefined;
  const accelOnce = (): Promise<'kvm' | 'tcg'> => (accel ??= options.probeAccel(options.signal));
  options.emit({ type: 'run-started', total: options.graph.steps.length, jobs: options.jobs });
  await makeDirectories(logsDir(options.workDir));
  await makeDirectories(artifactsRoot(options.workDir));

  const onAbort = (): void => {
    stopping = true;
  };
  options.signal.addEventListener('abort', onAbort, { once: true });

  const needsState = (step: StepSpec): 'ready' | 'waiting' | 'broken' => {
    let ready = true;
    for (const need of step.needs) {
      const s = status.get(need)?.state;
      if (s === 'failed' || s === 'blocked' || s === 'canceled') return 'broken';
      if (s !== 'done') ready = false;
    }
    return ready ? 'ready' : 'waiting';
  };

  const decide = (step: StepSpec): StepDecision => {
    const records = options.store.current.steps;
    const facts: PlanFacts = { ...options.facts, records };
    return decideStep(step, facts, (need) => {
      const record = records[need];
      return record
        ? { verdict: 'up-to-date', outputDigest: record.outputDigest }
        : { verdict: 'blocked' };
    });
  };

  const finish = (id: StepId, next: Status): void => {
    status.set(id, next);
    if (next.state === 'failed' && options.onFailure !== 'continue') {
      stopping = true;
      if (options.onFailure === 'kill')
        for (const controller of stepControllers.values())
          controller.abort(new Error('another step failed'));
    }
  };

  const schedule = (): void => {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const step of options.graph.steps) {
        if (status.get(step.id)?.state !== 'pending') continue;
        const needs = needsState(step);
        if (needs === 'broken') {
          const by = step.needs.filter((n) =>
            ['failed', 'blocked', 'canceled'].includes(status.get(n)?.state ?? ''),
          );
          status.set(step.id, { state: 'blocked' });
          options.emit({
            type: 'step-blocked',
            id: step.id,
            reasons: [`needs ${by.join(', ')}, which did not finish`],
          });
          progressed = true;
          continue;
        }
        if (needs !== 'ready' || stopping || running.size >= options.jobs) continue;
        const decision = decide(step);
        if (decision.verdict === 'up-to-date') {
          status.set(step.id, { state: 'done', ran: false });
          options.emit({ type: 'step-skipped', id: step.id });
          progressed = true;
          continue;
        }
        if (decision.verdict === 'blocked') {
          status.set(step.id, { state: 'blocked' });
          options.emit({ type: 'step-blocked', id: step.id, reasons: decision.reasons });
          if (options.onFailure !== 'continue') stopping = true;
          progressed = true;
          continue;
        }
        status.set(step.id, { state: 'running' });
        const task = executeStep(step, decision).then((next) => {
          running.delete(step.id);
          stepControllers.delete(step.id);
          finish(step.id, next);
        });
        running.set(step.id, task);
        progressed = true;
      }
    }
  };

  const executeStep = async (step: StepSpec, decision: StepDecision): Promise<Status> => {
    const kind = options.kinds.get(step.id);
    const opened = await openLog(logPath(options.workDir, step.id));
    const log = opened.ok ? opened.value : NO_LOG;
    const t0 = clock();
    options.emit({
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
    const controller = new AbortController();
    stepControllers.set(step.id, controller);
    const forward = (): void => {
      controller.abort(options.signal.reason);
    };
    options.signal.addEventListener('abort', forward, { once: true });
    const fail = (failure: StepFailure): Status => {
      log.write(`# failed: ${failure.message}\n`);
      options.emit({
        type: 'step-failed',
        id: step.id,
        durationMs: clock() - t0,
        failure,
        logPath: logPath(options.workDir, step.id),
      });
      return { state: 'failed' };
    };
    /** A file-system failure (ENOSPC, EROFS…) of `path` as a step failure, or undefined. */
    const failFs = (error: unknown, action: string, path?: string): Status | undefined => {
      const failure = fsFailureOf(error, path);
      if (!failure) return undefined;
      return fail({
        reason: 'io-error',
        message: `step ${step.id}: ${describeFsFailure(failure, { action, elsewhere: 'use another work directory (--work-dir DIR)' })} Finished steps are kept; run the same command again to resume.`,
      });
    };
    try {
      if (!opened.ok)
        return (
          failFs(opened.error, 'create its log', logPath(options.workDir, step.id)) ??
          fail({
            reason: 'io-error',
            message: `step ${step.id}: cannot create its log ${logPath(options.workDir, step.id)}: ${String(opened.error)}`,
          })
        );
      if (!kind || decision.fingerprint === undefined || decision.components === undefined) {
        return fail({
          reason: 'not-runnable',
          message: `step kind '${step.kind}' cannot run: ${decision.reasons.join('; ')}`,
        });
      }
      // The record goes before the step starts: a crash from here on leaves the step "not done".
      if (options.store.current.steps[step.id]) {
        try {
          await options.store.update((state) => withStep(state, step.id, undefined));
        } catch (error) {
          const failed = failFs(error, 'write', statePath(options.workDir));
          if (failed) return failed;
          throw error;
        }
      }
      const outDir = partialDir(options.workDir, step.id);
      await rm(outDir, { recursive: true, force: true });
      await makeDirectories(outDir); // (not recursive mkdir: it hides EROFS/ENOSPC as ENOENT)
      const records = options.store.current.steps;
      const needs = new Map<StepId, StepOutputs & { dir: string }>();
      for (const need of step.needs) {
        const record = records[need];
        if (!record) continue;
        needs.set(need, {
          artifacts: Object.fromEntries(
            Object.entries(record.artifacts).map(([name, a]) => [name, a.file]),
          ),
          values: record.values,
          dir: stepDir(options.workDir, need),
        });
      }
      const ready = kind.resolve((id) => needs.get(id as StepId)?.values);
      if (!ready.ok) {
        const m = ready.error;
        return fail({
          reason: 'missing-output',
          message: `\${steps.${m.step}.${m.output}} names an output that step ${m.step} does not have (it has: ${m.available.join(', ') || 'none'}); fix the recipe`,
        });
      }
      let result;
      try {
        result = await ready.value.run({
          signal: controller.signal,
          log: (line) => {
            log.write(`${line}\n`);
            options.emit({ type: 'step-log', id: step.id, line });
          },
          progress: (update) => {
            options.emit({ type: 'step-progress', id: step.id, update });
          },
          workDir: options.workDir,
          outDir,
          needs,
          secrets: options.secrets,
          exec: options.exec,
          accel: accelOnce,
        });
      } catch (error) {
        // A full or read-only disk met by a step that did not expect it is not a bug.
        const failed = failFs(error, 'write');
        if (failed) return failed;
        const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log.write(`# internal error: ${stack}\n`);
        return fail({
          reason: 'internal-error',
          message: `internal error in step ${step.id}: ${error instanceof Error ? error.message : String(error)}. This is a bug in emi-recipe: please report it with ${logPath(options.workDir, step.id)}`,
          outputTail: stack.split('\n').slice(0, 20),
        });
      }
      if (controller.signal.aborted) {
        log.write('# canceled\n');
        options.emit({
          type: 'step-canceled',
          id: step.id,
          logPath: logPath(options.workDir, step.id),
        });
        return { state: 'canceled' };
      }
      if (!result.ok) return fail(result.error);
      const artifacts: Record<string, ArtifactRecord> = {};
      for (const [name, file] of Object.entries(result.value.artifacts)) {
        const path = join(outDir, file);
        const identity = await statIdentity(path);
        if (!identity)
          return fail({
            reason: 'missing-artifact',
            message: `step ${step.id} reported artifact ${name} (${file}) but did not write it: this is a bug`,
          });
        artifacts[name] = { file, ...identity, sha256: await hashFile(path, controller.signal) };
      }
      const final = stepDir(options.workDir, step.id);
      await rm(final, { recursive: true, force: true });
      await rename(outDir, final);
      await fsyncDirectory(artifactsRoot(options.workDir));
      const record: StepRecord = {
        kind: step.kind,
        fingerprint: decision.fingerprint,
        components: decision.components,
        artifacts,
        values: result.value.values,
        outputDigest: outputDigestOf(artifacts, result.value.values),
        startedAt: new Date(t0).toISOString(),
        finishedAt: new Date(clock()).toISOString(),
      };
      try {
        await options.store.update((state) => withStep(state, step.id, record));
      } catch (error) {
        const failed = failFs(error, 'record the step in', statePath(options.workDir));
        if (failed) return failed;
        throw error;
      }
      log.write(`# done in ${clock() - t0} ms\n`);
      options.emit({
        type: 'step-succeeded',
        id: step.id,
        durationMs: clock() - t0,
        values: result.value.values,
      });
      return { state: 'done', ran: true };
    } catch (error) {
      if (controller.signal.aborted) {
        options.emit({
          type: 'step-canceled',
          id: step.id,
          logPath: logPath(options.workDir, step.id),
        });
        return { state: 'canceled' };
      }
      const failed = failFs(error, 'write');
      if (failed) return failed;
      const message = error instanceof Error ? error.message : String(error);
      return fail({
        reason: 'io-error',
        message: `step ${step.id} could not record its result: ${message}`,
      });
    } finally {
      options.signal.removeEventListener('abort', forward);
      await log.close();
    }
  };

  schedule();
  while (running.size > 0) {
    await Promise.race(running.values());
    schedule();
  }
  options.signal.removeEventListener('abort', onAbort);

  const ids = (pred: (s: Status) => boolean): StepId[] =>
    options.graph.steps
      .filter((s) => pred(status.get(s.id) ?? { state: 'pending' }))
      .map((s) => s.id);
  const summary: RunSummary = {
    ran: ids((s) => s.state === 'done' && s.ran),
    upToDate: ids((s) => s.state === 'done' && !s.ran),
    failed: ids((s) => s.state === 'failed'),
    blocked: ids((s) => s.state === 'blocked'),
    canceled: ids(
      (s) => s.state === 'canceled' || (s.state === 'pending' && options.signal.aborted),
    ),
    durationMs: clock() - started,
  };
  const outcome: RunOutcome = options.signal.aborted
    ? 'canceled'
    : summary.failed.length + summary.blocked.length > 0
      ? 'failed'
      : 'ok';
  options.emit({ type: 'run-finished', outcome, summary });
  return { outcome, summary };
}
