// `emi-recipe plan`: the dry run. Loads the recipe and the state, decides every step,
// prints verdicts and reasons (or JSON), optionally saves the plan for `apply plan.json`.
// No side effects: nothing is written except the --out file.
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { describeFsFailure, fsFailureOf } from '../../core/fs-failure.js';
import type { Exec } from '../../tools/exec.js';
import { planDocument, type PlanDocument } from '../../plan/plan-document.js';
import { planWithCache } from '../../run/plan-cache.js';
import { OVERLAY_KINDS, VALUES_ONLY_KINDS } from '../store-choice.js';
import { bindBuiltinSteps } from '../../plan/bind-kind.js';
import type { HostFacts, StepKinds } from '../../plan/step.js';
import { inspect } from '../../run/inspect.js';
import { formatPlan } from '../output/plan-printer.js';
import type { Terminal } from '../output/terminal.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Recipe } from '../../recipe/model.js';
import type { StepKindSet } from '../../steps/registry.js';
import { openSession, type Session } from './session.js';

export interface PlanCommandOptions {
  readonly json: boolean;
  readonly out?: string;
  readonly workDir?: string;
  readonly commands: boolean;
  /** Also check the publishing target (endpoint, credentials, bucket, certificates), read-only. */
  readonly refresh: boolean;
  /** `--store s3://…`: read the state from this store (overrides the recipe's store.url). */
  readonly store?: string;
  /** False with --no-lock: said in the plan (apply would take no lock). */
  readonly lock?: boolean;
}

export interface EngineDeps {
  readonly terminal: Terminal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  /** The step kinds for a recipe (the tests give test-only ones); close() when done. */
  readonly makeKinds: (recipe: Recipe) => StepKindSet;
  readonly exec: Exec;
  readonly hostFacts: () => Promise<HostFacts>;
  readonly version: string;
}

/** Computes the plan document for a session (no side effects). */
export async function computePlan(
  session: Session,
  deps: EngineDeps,
  kinds: StepKinds,
  options: { forced?: ReadonlySet<string>; refresh?: boolean; locking?: boolean } = {},
) {
  const host = await deps.hostFacts();
  const inspection = await inspect({
    graph: session.graph,
    state: session.state,
    workDir: session.workDir,
    kinds,
    exec: deps.exec,
    signal: deps.signal,
    host,
    env: deps.env,
    ...(options.forced ? { forced: options.forced } : {}),
    refresh: options.refresh === true,
    sharedState: session.store?.remote === true,
  });
  const { plan, problems } = await planWithCache(
    { ...inspection.facts, readsValuesOnly: VALUES_ONLY_KINDS, readsThrough: OVERLAY_KINDS },
    session.store?.cache,
    deps.signal,
  );
  const doc: PlanDocument = planDocument({
    plan,
    graph: session.graph,
    version: deps.version,
    recipe: { name: session.recipe.name, path: session.recipe.path },
    recipeText: session.text,
    workDir: session.workDir,
    ...(session.store?.remote === true
      ? { store: { url: session.store.url, locking: options.locking !== false } }
      : {}),
    host,
    records: session.state.steps,
    inputDigests: inspection.facts.inputDigests,
  });
  return { plan, doc, inspection, cacheProblems: problems };
}

export async function runPlan(
  recipeFile: string,
  options: PlanCommandOptions,
  deps: EngineDeps,
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: true,
    terminal: deps.terminal,
    ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
    store: {
      ...(options.store !== undefined ? { flag: options.store } : {}),
      noLock: options.lock === false,
      forWrite: false,
    },
    signal: deps.signal,
  });
  if (!session) return exit ?? EXIT.usage;
  if (options.lock === false)
    deps.terminal.err(
      'warning: locking is OFF (--no-lock): an apply of this plan takes no lock in the store; only one runner may apply this recipe at a time.\n',
    );
  const set = deps.makeKinds(session.recipe);
  try {
    return await printPlan(session, options, deps, set);
  } finally {
    await set.close();
    await session.store?.close();
  }
}

async function printPlan(
  session: Session,
  options: PlanCommandOptions,
  deps: EngineDeps,
  set: StepKindSet,
): Promise<ExitCode> {
  const bound = bindBuiltinSteps(session.graph.steps, set.kinds);
  const { doc, cacheProblems } = await computePlan(session, deps, bound, {
    refresh: options.refresh,
    locking: options.lock !== false,
  });
  for (const problem of cacheProblems) deps.terminal.err(`warning: ${problem}\n`);
  if (options.out !== undefined) {
    const problem = await savePlan(options.out, doc);
    if (problem !== undefined) {
      deps.terminal.err(`error: ${problem}\n`);
      return EXIT.failure;
    }
  }
  if (options.json) deps.terminal.out(`${JSON.stringify(doc, null, 2)}\n`);
  else
    deps.terminal.out(formatPlan(doc, { commands: options.commands, color: deps.terminal.color }));
  if (options.out !== undefined && !options.json) {
    deps.terminal.out(
      `Saved to ${options.out}; apply exactly this plan with: emi-recipe apply ${options.out}\n`,
    );
  }
  if (options.refresh && set.preflight) {
    // --refresh: the publishing target is asked, read-only, whether the steps that run can succeed.
    const kinds = new Set(doc.steps.filter((s) => s.verdict === 'run').map((s) => s.kind));
    const report = await set.preflight({ mayWrite: false, kinds, signal: deps.signal });
    for (const warning of report.warnings) deps.terminal.err(`warning: ${warning}\n`);
    for (const error of report.errors) deps.terminal.err(`error: ${error}\n`);
    if (report.errors.length > 0) return EXIT.failure;
  }
  return EXIT.ok;
}

/**
 * Writes the plan to `out` atomically; returns why it could not (a missing directory,
 * a read-only or full file system, permissions), or undefined. Other errors are bugs.
 */
async function savePlan(out: string, doc: PlanDocument): Promise<string | undefined> {
  try {
    await writeFileAtomic(out, `${JSON.stringify(doc, null, 2)}\n`);
    return undefined;
  } catch (error) {
    const elsewhere = 'choose another --out FILE';
    const failure = fsFailureOf(error, out);
    if (failure) return describeFsFailure(failure, { action: 'write the plan to', elsewhere });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return `cannot write the plan to ${out}: the directory ${dirname(resolve(out))} does not exist (${code}). Create it first, or ${elsewhere}.`;
    if (code === 'EISDIR')
      return `cannot write the plan to ${out}: it is a directory (EISDIR). Name a file, such as ${join(out, 'plan.json')}.`;
    throw error;
  }
}
