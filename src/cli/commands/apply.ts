// `emi-recipe apply RECIPE|PLAN.json`: takes the work directory's lock, decides and runs
// the steps, checkpoints each one, shows progress, and reports failures. Re-running it
// after a crash, Ctrl-C or failure resumes where it stopped.
import { readFile } from 'node:fs/promises';
import { makeDirectories } from '../../core/fs-failure.js';
import { printFsFailure, relativeToCwd, removeEmptyDirs, reportFsError } from './apply-fs.js';
import type { PlanDocument } from '../../plan/plan-document.js';
import { stalePlanReasons } from '../../plan/plan-document.js';
import { bindBuiltinSteps } from '../../plan/bind-kind.js';
import type { StepFailure, StepKinds } from '../../plan/step.js';
import type { StepKindSet } from '../../steps/registry.js';
import type { RunEvent } from '../../run/events.js';
import { artifactsRoot, logsDir } from '../../run/layout.js';
import { takeLock } from '../../run/lock.js';
import { describeReap, reapedAnything, reapWorkDir } from '../../run/reap.js';
import { runGraph, type FailureMode } from '../../run/runner.js';
import { statePath, StateStore } from '../../run/state.js';
import { formatDuration } from '../../recipe/units.js';
import { formatStepFailure } from '../output/failure-printer.js';
import { listrRenderer } from '../output/listr-renderer.js';
import { plainRenderer } from '../output/plain-renderer.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { computePlan, type EngineDeps } from './plan.js';
import { openSession, type Session } from './session.js';
import type { StoreLock } from '../../run/store.js';
import { describeStoreFailure } from '../../store/describe-store.js';
import { storeExitCode } from '../store-choice.js';
import { readStateUnderLock, remoteRun, takeRemoteLock, type RemoteRun } from './apply-store.js';

export interface ApplyOptions {
  readonly workDir?: string;
  readonly jobs: number;
  readonly onFailure: FailureMode;
  readonly progress: boolean;
  readonly verbose: boolean;
  readonly force: readonly string[];
  /** Ask the cloud whether recorded images and bundles still exist (re-run the steps whose effects are gone). */
  readonly refresh: boolean;
  /** `--store s3://…`: the state and lock there (overrides the recipe's store.url). */
  readonly store?: string;
  /** False with --no-lock: no lock in a shared store (one runner only). */
  readonly lock?: boolean;
  /** --lock-timeout: how long to wait for a shared store's lock held by another run. */
  readonly lockTimeoutMs?: number;
  /** --lease: overrides the recipe's store.lease. */
  readonly leaseMs?: number;
}

export interface ApplyDeps extends EngineDeps {
  readonly probeAccel: (signal: AbortSignal) => Promise<'kvm' | 'tcg'>;
}

/** True when the argument names a saved plan rather than a recipe. */
async function readPlanFile(target: string): Promise<PlanDocument | undefined> {
  if (!target.endsWith('.json')) return undefined;
  const text = await readFile(target, 'utf8');
  const doc = JSON.parse(text) as Partial<PlanDocument>;
  return typeof doc.planFormat === 'number' && doc.recipe ? (doc as PlanDocument) : undefined;
}

export async function runApply(
  target: string,
  options: ApplyOptions,
  deps: ApplyDeps,
): Promise<ExitCode> {
  const { terminal } = deps;
  let saved: PlanDocument | undefined;
  try {
    saved = await readPlanFile(target);
  } catch (error) {
    terminal.err(`error: cannot read plan file '${target}': ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const recipeFile = saved ? saved.recipe.path : target;
  const workDir = options.workDir ?? saved?.workDir;
  const opened = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: true,
    terminal,
    ...(workDir !== undefined ? { workDir } : {}),
    store: {
      ...(options.store !== undefined ? { flag: options.store } : {}),
      noLock: options.lock === false,
      forWrite: true,
    },
    signal: deps.signal,
  });
  if (!opened.session) return opened.exit ?? EXIT.usage;
  try {
    return await applySession(opened.session, { target, saved, recipeFile }, options, deps);
  } finally {
    await opened.session.store?.close();
  }
}

/** apply with the session open: the work directory's lock, a shared store's lock, the run. */
async function applySession(
  opened: Session,
  args: { target: string; saved: PlanDocument | undefined; recipeFile: string },
  options: ApplyOptions,
  deps: ApplyDeps,
): Promise<ExitCode> {
  const { terminal } = deps;
  const { target, saved, recipeFile } = args;
  const remote = opened.store?.remote === true ? opened.store : undefined;
  if (remote !== undefined && options.lock === false)
    terminal.err(
      `warning: locking is OFF (--no-lock): no lock is taken in ${remote.url}; if another runner applies this recipe now, one of the two has its state writes refused.\n`,
    );
  const unknown = options.force.filter((id) => !opened.graph.byId.has(id as never));
  if (unknown.length > 0) {
    terminal.err(
      `error: --force names unknown step(s): ${unknown.join(', ')} (steps: ${opened.graph.steps.map((s) => s.id).join(', ')})\n`,
    );
    return EXIT.usage;
  }

  const { workDir: dir } = opened;
  let created: string | undefined;
  try {
    created = await makeDirectories(dir);
  } catch (error) {
    return reportFsError(terminal, error, dir, 'create the work directory');
  }
  try {
    const lock = await takeLock(dir, `emi-recipe apply ${target}`);
    if (!lock.ok) {
      if (lock.error.reason === 'fs-error')
        return printFsFailure(terminal, lock.error, 'write the lock file');
      const h = lock.error.holder;
      terminal.err(
        `error: ${dir} is in use by another apply (pid ${h.pid} on ${h.host}, since ${h.since}: ${h.command}).\n` +
          `Wait for it to finish, or stop it (kill ${h.pid}); a lock left by a dead process is taken over automatically.\n`,
      );
      return EXIT.locked;
    }
    let remoteLock: StoreLock | undefined;
    try {
      if (remote !== undefined) {
        const taken = await takeRemoteLock(remote, {
          operation: `apply ${target}`,
          version: deps.version,
          leaseMs: options.leaseMs ?? opened.recipe.store.leaseMs,
          waitMs: options.lockTimeoutMs ?? 0,
          env: deps.env,
          terminal,
          signal: deps.signal,
        });
        if (!taken.ok) {
          terminal.err(`error: ${describeStoreFailure(taken.error, recipeFile)}\n`);
          return storeExitCode(taken.error);
        }
        remoteLock = taken.value;
      }
      // A run killed in this work dir may have left mounts, chrooted processes, scratch.
      const reaped = await reapWorkDir(dir, deps.exec);
      if (reapedAnything(reaped))
        terminal.err(`note: cleaned up after a killed run: ${describeReap(reaped)}\n`);
      // Re-read the state under the lock: another apply may have finished in between.
      const reread = await readStateUnderLock(opened, remote, terminal);
      if (!reread.ok) return reread.error;
      const session = reread.value;
      const run =
        remote !== undefined && remoteLock !== undefined
          ? remoteRun(remote, remoteLock, {
              version: session.stateVersion ?? {},
              recipeFile,
              signal: deps.signal,
            })
          : undefined;
      const set = deps.makeKinds(session.recipe);
      try {
        return await planAndRun(session, set, { target, recipeFile, saved, run }, options, deps);
      } finally {
        run?.dispose();
        await set.close();
      }
    } finally {
      await remoteLock?.release();
      await lock.value.release();
    }
  } finally {
    // A refused plan, a failed pre-flight or a lock error wrote nothing: leave no empty
    // work directory behind. rmdir only removes empty directories, so one in use stays.
    if (created !== undefined) await removeEmptyDirs(dir, created);
  }
}

/** Under the lock: decide, check a saved plan, pre-flight the target, run. */
async function planAndRun(
  session: Session,
  set: StepKindSet,
  args: {
    target: string;
    recipeFile: string;
    saved: PlanDocument | undefined;
    run: RemoteRun | undefined;
  },
  options: ApplyOptions,
  deps: ApplyDeps,
): Promise<ExitCode> {
  const { terminal } = deps;
  const bound = bindBuiltinSteps(session.graph.steps, set.kinds);
  const { doc, plan, inspection, cacheProblems } = await computePlan(session, deps, bound, {
    forced: new Set(options.force),
    refresh: options.refresh,
    locking: options.lock !== false,
  });
  for (const problem of cacheProblems) terminal.err(`warning: ${problem}\n`);
  if (args.saved) {
    const stale = stalePlanReasons(args.saved, doc);
    if (stale.length > 0) {
      terminal.err(
        `error: refusing to apply ${args.target}: it no longer matches:\n${stale.map((r) => `  - ${r}`).join('\n')}\nMake a new plan: emi-recipe plan ${args.recipeFile} --out ${args.target}\n`,
      );
      return EXIT.usage;
    }
  }
  if (doc.summary.run === 0 && doc.summary.blocked === 0) {
    terminal.out(`Nothing to do: all ${doc.summary.upToDate} steps are up to date.\n`);
    return EXIT.ok;
  }
  if (set.preflight) {
    // Before any long step: a 40-minute install must never end in "bad credentials".
    const kinds = new Set(doc.steps.filter((s) => s.verdict === 'run').map((s) => s.kind));
    const report = await set.preflight({ mayWrite: true, kinds, signal: deps.signal });
    for (const warning of report.warnings) terminal.err(`warning: ${warning}\n`);
    if (report.errors.length > 0) {
      for (const error of report.errors) terminal.err(`error: ${error}\n`);
      terminal.err('Nothing was run: fix the publishing settings above first.\n');
      return EXIT.failure;
    }
  }
  const store = new StateStore(args.run?.writer ?? session.workDir, {
    ...session.state,
    files: inspection.files,
    tools: inspection.tools,
  });
  try {
    await makeDirectories(logsDir(session.workDir));
    await makeDirectories(artifactsRoot(session.workDir));
  } catch (error) {
    return reportFsError(terminal, error, session.workDir, 'write to the work directory');
  }
  try {
    await store.update((s) => s);
  } catch (error) {
    const problem = args.run?.problem();
    if (problem !== undefined) {
      terminal.err(`error: ${describeStoreFailure(problem, args.recipeFile)}\n`);
      return storeExitCode(problem);
    }
    return reportFsError(terminal, error, statePath(session.workDir), 'write');
  }
  // The plan's facts: a step recorded elsewhere whose files a running step needs runs here.
  const code = await execute(session, store, plan.facts, bound, options, {
    ...deps,
    ...(args.run !== undefined ? { signal: args.run.signal } : {}),
    stoppedByStore: () => args.run?.problem() !== undefined,
  });
  const problem = args.run?.problem();
  if (problem === undefined) return code;
  terminal.err(`error: ${describeStoreFailure(problem, args.recipeFile)}\n`);
  return storeExitCode(problem);
}

async function execute(
  session: Session,
  store: StateStore,
  facts: Awaited<ReturnType<typeof computePlan>>['inspection']['facts'],
  kinds: StepKinds,
  options: ApplyOptions,
  deps: ApplyDeps & { readonly stoppedByStore?: () => boolean },
): Promise<ExitCode> {
  const { terminal } = deps;
  const failures: { id: string; failure: StepFailure; logPath: string }[] = [];
  const warnings: string[] = [];
  const useListr = options.progress && terminal.isTty;
  const listr = useListr
    ? listrRenderer(
        session.graph.steps.map((s) => s.id),
        { verbose: options.verbose },
      )
    : undefined;
  const plain = useListr ? undefined : plainRenderer(terminal, { verbose: options.verbose });
  const sink = (event: RunEvent): void => {
    if (event.type === 'step-failed')
      failures.push({ id: event.id, failure: event.failure, logPath: event.logPath });
    if (event.type === 'step-warning') warnings.push(`warning: ${event.id}: ${event.message}\n`);
    (listr?.sink ?? plain)?.(event);
  };
  const secrets = new Map<string, string>();
  const credentials = session.recipe.publish.credentials;
  if (credentials) secrets.set('secret-key', credentials.secretKey);
  const result = await runGraph({
    graph: session.graph,
    kinds,
    store,
    facts,
    workDir: session.workDir,
    jobs: options.jobs,
    onFailure: options.onFailure,
    signal: deps.signal,
    emit: sink,
    exec: deps.exec,
    secrets,
    probeAccel: deps.probeAccel,
    ...(session.store?.cache !== undefined ? { cache: session.store.cache } : {}),
  });
  await listr?.done();
  for (const warning of warnings) terminal.err(warning);
  for (const f of failures)
    terminal.err(formatStepFailure(f.id, f.failure, relativeToCwd(f.logPath)));
  const s = result.summary;
  const counts = [`${String(s.ran.length)} ran`];
  if (s.restored.length > 0) counts.push(`${String(s.restored.length)} restored from the cache`);
  counts.push(`${String(s.upToDate.length)} up to date`);
  if (s.failed.length > 0) counts.push(`${s.failed.length} failed`);
  if (s.blocked.length > 0) counts.push(`${s.blocked.length} blocked`);
  if (s.canceled.length > 0) counts.push(`${s.canceled.length} stopped`);
  terminal.out(
    `Apply ${result.outcome === 'ok' ? 'finished' : result.outcome === 'canceled' ? 'interrupted' : 'failed'}: ${counts.join(', ')} in ${formatDuration(s.durationMs)}\n`,
  );
  if (result.outcome === 'ok') {
    const ids = ['register-kernel', 'register-ramdisk', 'register-machine']
      .map((id) => store.current.steps[id]?.values.imageId)
      .filter((v): v is string => typeof v === 'string');
    if (ids.length > 0) terminal.out(`Images: ${ids.join(' ')}\n`);
    return EXIT.ok;
  }
  if (result.outcome === 'canceled') {
    // Stopped by the shared store (a lost lock, a refused write): the caller says why.
    if (deps.stoppedByStore?.() === true) return EXIT.locked;
    terminal.err(`Interrupted. Finished steps are kept; run the same command again to resume.\n`);
    return EXIT.interrupted;
  }
  if (failures.some((f) => f.failure.kind === 'internal')) {
    // A bug, not the machine: exit 70 like any other internal error (STYLE.md §4).
    terminal.err(
      `internal error: a step failed because of a bug in emi-recipe (see above). Please report it with the command you ran, the output above and the step's log.\n`,
    );
    return EXIT.internal;
  }
  terminal.err(
    `Fix the problem above, then run the same command again: finished steps are kept and skipped.\n`,
  );
  return EXIT.failure;
}
