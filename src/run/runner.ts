// The runner: executes the graph's steps, in parallel where needs allow, deciding each
// step just before it would start (so a re-run upstream step that produced the same
// outputs leaves its dependents up to date). Wires the scheduler (what starts when) to
// run-step.ts (one step, checkpointed). It knows nothing of what steps do.
import { availableParallelism } from 'node:os';
import { coreShare } from '../core/core-share.js';
import { makeDirectories } from '../core/fs-failure.js';
import type { Exec } from '../tools/exec.js';
import { decideStep, type PlanFacts, type StepDecision } from '../plan/plan.js';
import type { StepGraph } from '../plan/graph.js';
import type { StepId, StepKinds, StepSpec } from '../plan/step.js';
import type { EventSink, RunOutcome, RunSummary } from './events.js';
import { artifactsRoot, logPath, logsDir } from './layout.js';
import { runStep } from './run-step.js';
import {
  longestPathFirst,
  schedule,
  type FailureMode,
  type FinalStatus,
  type StepOutcome,
} from './scheduler.js';
import { recordsOf, type StepRunEnv } from './step-attempt.js';
import { DeferredRecords } from './deferred-records.js';
import type { StateStore } from './state.js';
import { internalStepFailure } from '../plan/step-failure.js';
import { restoreStep } from './cache-restore.js';
import { needEnsurer } from './need-ensurer.js';
import type { StepCache } from './step-cache.js';

export type { FailureMode } from './scheduler.js';

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
  readonly clock?: () => number;
  /** The shared store's step cache: steps are restored from it, needs' files fetched. */
  readonly cache?: StepCache;
}

/** How long `step` should take: its last recorded run here, else its kind's typical time. */
function expectedMs(options: RunnerOptions, step: StepSpec): number {
  const record = options.store.current.steps[step.id];
  if (record) {
    const ms = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
    if (Number.isFinite(ms) && ms > 0) return ms;
  }
  return options.kinds.get(step.id)?.typicalMs ?? 1000;
}

/** The step's decision now, from the records the run has made so far (recordsOf). */
function decideNow(
  options: RunnerOptions,
  step: StepSpec,
  records: PlanFacts['records'],
): StepDecision {
  const facts: PlanFacts = { ...options.facts, records };
  return decideStep(step, facts, (need) => {
    const record = records[need];
    return record
      ? { verdict: 'up-to-date', outputDigest: record.outputDigest }
      : { verdict: 'blocked' };
  });
}

/**
 * Decides a ready step: up to date and blocked end at once; one whose fingerprint the
 * step cache holds is restored; the others run in a slot.
 */
function startStep(
  options: RunnerOptions,
  env: StepRunEnv,
  restored: Set<StepId>,
): (step: StepSpec, signal: AbortSignal) => StepOutcome | Promise<StepOutcome> {
  return async (step, signal) => {
    const unrecorded = env.background?.failed ?? [];
    if (unrecorded.length > 0 && options.onFailure !== 'continue') {
      // Like a failed step: what would be built on it could not be recorded either.
      const reasons = [`${unrecorded.join(', ')} could not be recorded in the state`];
      options.emit({ type: 'step-blocked', id: step.id, reasons });
      return { state: 'blocked' };
    }
    const decision = decideNow(options, step, recordsOf(env));
    if (decision.verdict === 'up-to-date') {
      options.emit({ type: 'step-skipped', id: step.id });
      return { state: 'done', ran: false };
    }
    if (decision.verdict === 'blocked') {
      options.emit({ type: 'step-blocked', id: step.id, reasons: decision.reasons });
      return { state: 'blocked' };
    }
    const { fingerprint, components } = decision;
    const cache = env.cache;
    if (
      cache?.caches(step.kind) === true &&
      decision.cause !== 'forced' &&
      fingerprint !== undefined &&
      components !== undefined
    ) {
      // Asked again now (the plan's answer may be old, or its fingerprint another).
      const found = await cache.lookup(fingerprint, signal);
      if (found.found?.kind === step.kind) {
        restored.add(step.id);
        return restoreStep(
          env,
          step,
          { ...decision, fingerprint, components },
          found.found,
          signal,
        );
      }
      if (found.problem !== undefined)
        options.emit({ type: 'step-log', id: step.id, line: `cache: ${found.problem}` });
    }
    if (decision.cause === 'restore')
      return runStep(
        env,
        step,
        { ...decision, cause: 'never-run', reasons: ['its cache entry is gone: runs'] },
        signal,
      );
    return runStep(env, step, decision, signal);
  };
}

/** A step's start threw: a bug in the runner, reported as the step's internal error. */
function reportInternalError(options: RunnerOptions, id: StepId, error: unknown): void {
  const path = logPath(options.workDir, id);
  options.emit({
    type: 'step-failed',
    id,
    durationMs: 0,
    failure: internalStepFailure(error),
    logPath: path,
  });
}

/** Runs the graph to completion, failure or cancellation. Never rejects. */
export async function runGraph(
  options: RunnerOptions,
): Promise<{ outcome: RunOutcome; summary: RunSummary }> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  let accel: Promise<'kvm' | 'tcg'> | undefined;
  const restored = new Set<StepId>();
  // With a step cache, steps count as done before their upload and record (deferred-records.ts).
  const background = options.cache ? new DeferredRecords(options.signal) : undefined;
  const env: StepRunEnv = {
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    ensureNeed: needEnsurer(options, () => env),
    ...(options.facts.readsValuesOnly !== undefined
      ? { readsValuesOnly: options.facts.readsValuesOnly }
      : {}),
    redecide: (step) => decideNow(options, step, recordsOf(env)),
    kinds: options.kinds,
    store: options.store,
    workDir: options.workDir,
    emit: options.emit,
    exec: options.exec,
    secrets: options.secrets,
    accel: () => (accel ??= options.probeAccel(options.signal)),
    cores: coreShare(availableParallelism()),
    clock,
    ...(background !== undefined ? { background } : {}),
  };
  options.emit({ type: 'run-started', total: options.graph.steps.length, jobs: options.jobs });
  await makeDirectories(logsDir(options.workDir));
  await makeDirectories(artifactsRoot(options.workDir));

  const statuses = await schedule({
    steps: longestPathFirst(options.graph.steps, (step) => expectedMs(options, step)),
    jobs: options.jobs,
    onFailure: options.onFailure,
    signal: options.signal,
    start: startStep(options, env, restored),
    onBlocked: (step, by) => {
      options.emit({
        type: 'step-blocked',
        id: step.id,
        reasons: [`needs ${by.join(', ')}, which did not finish`],
      });
    },
    onInternalError: (step, error) => {
      reportInternalError(options, step.id, error);
    },
  });

  // Uploads and records that outlived their steps: the run (and its lock) ends when they do.
  await background?.settled();
  const unrecorded = new Set(background?.failed ?? []);

  const ids = (pred: (s: FinalStatus) => boolean): StepId[] =>
    options.graph.steps
      .filter((s) => pred(statuses.get(s.id) ?? { state: 'not-started' }))
      .map((s) => s.id);
  const summary: RunSummary = {
    ran: ids((s) => s.state === 'done' && s.ran).filter(
      (id) => !restored.has(id) && !unrecorded.has(id),
    ),
    restored: ids((s) => s.state === 'done' && s.ran).filter((id) => restored.has(id)),
    upToDate: ids((s) => s.state === 'done' && !s.ran),
    // A step that ran but could not be recorded failed (its step-failed event says why).
    failed: ids((s) => s.state === 'failed' || s.state === 'internal-error').concat(
      ids((s) => s.state === 'done').filter((id) => unrecorded.has(id)),
    ),
    blocked: ids((s) => s.state === 'blocked'),
    canceled: ids((s) => s.state === 'canceled'),
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
