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
import { schedule, type FailureMode, type FinalStatus, type StepOutcome } from './scheduler.js';
import type { StepRunEnv } from './step-attempt.js';
import type { StateStore } from './state.js';
import { internalStepFailure } from '../plan/step-failure.js';

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
}

/** The step's decision now, from the records the run has written so far. */
function decideNow(options: RunnerOptions, step: StepSpec): StepDecision {
  const records = options.store.current.steps;
  const facts: PlanFacts = { ...options.facts, records };
  return decideStep(step, facts, (need) => {
    const record = records[need];
    return record
      ? { verdict: 'up-to-date', outputDigest: record.outputDigest }
      : { verdict: 'blocked' };
  });
}

/** Decides a ready step: up to date and blocked end at once; the others run in a slot. */
function startStep(
  options: RunnerOptions,
  env: StepRunEnv,
): (step: StepSpec, signal: AbortSignal) => StepOutcome | Promise<StepOutcome> {
  return (step, signal) => {
    const decision = decideNow(options, step);
    if (decision.verdict === 'up-to-date') {
      options.emit({ type: 'step-skipped', id: step.id });
      return { state: 'done', ran: false };
    }
    if (decision.verdict === 'blocked') {
      options.emit({ type: 'step-blocked', id: step.id, reasons: decision.reasons });
      return { state: 'blocked' };
    }
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
  const env: StepRunEnv = {
    kinds: options.kinds,
    store: options.store,
    workDir: options.workDir,
    emit: options.emit,
    exec: options.exec,
    secrets: options.secrets,
    accel: () => (accel ??= options.probeAccel(options.signal)),
    cores: coreShare(availableParallelism()),
    clock,
  };
  options.emit({ type: 'run-started', total: options.graph.steps.length, jobs: options.jobs });
  await makeDirectories(logsDir(options.workDir));
  await makeDirectories(artifactsRoot(options.workDir));

  const statuses = await schedule({
    steps: options.graph.steps,
    jobs: options.jobs,
    onFailure: options.onFailure,
    signal: options.signal,
    start: startStep(options, env),
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

  const ids = (pred: (s: FinalStatus) => boolean): StepId[] =>
    options.graph.steps
      .filter((s) => pred(statuses.get(s.id) ?? { state: 'not-started' }))
      .map((s) => s.id);
  const summary: RunSummary = {
    ran: ids((s) => s.state === 'done' && s.ran),
    upToDate: ids((s) => s.state === 'done' && !s.ran),
    failed: ids((s) => s.state === 'failed' || s.state === 'internal-error'),
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
