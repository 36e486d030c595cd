// Shared start of plan/apply/status/graph/clean: load the recipe (printing problems),
// build the graph, find the work directory and read the state: from the work directory,
// or, for plan and apply, from the recipe's store (store.url, --store) when it is remote.
import { resolve } from 'node:path';
import { hasErrors } from '../../core/diagnostic.js';
import { loadRecipe } from '../../recipe/load-recipe.js';
import type { Recipe } from '../../recipe/model.js';
import { defaultGraphInput } from '../../plan/default-graph.js';
import { buildGraph, type StepGraph } from '../../plan/graph.js';
import type { BuiltinStepSpec } from '../../plan/step-params.js';
import { defaultWorkDir } from '../../run/layout.js';
import { describeStateLoadFailure, loadState, type State } from '../../run/state.js';
import type { RecipeStore, StateVersion } from '../../run/store.js';
import { describeStoreFailure } from '../../store/describe-store.js';
import { openStore, type StoreChoice } from '../store-choice.js';
import { formatDiagnostics } from '../output/diagnostic-printer.js';
import type { Terminal } from '../output/terminal.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export interface Session {
  readonly recipe: Recipe;
  readonly recipeFile: string;
  readonly text: string;
  readonly graph: StepGraph<BuiltinStepSpec>;
  readonly workDir: string;
  readonly state: State;
  /**
   * The store the state was read from, when plan/apply asked for one (a session that
   * has one must close() it); `stateVersion` is what a write must name to replace it.
   */
  readonly store?: RecipeStore;
  readonly stateVersion?: StateVersion;
}

export interface SessionOptions {
  readonly workDir?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** plan/apply: machine inputs must exist (see RuleContext.strictInputs). */
  readonly strictInputs: boolean;
  readonly terminal: Terminal;
  /** plan and apply: which store to read the state from (store.url, --store, --no-lock). */
  readonly store?: StoreChoice;
  readonly signal?: AbortSignal;
}

/** Opens a session, or prints why not and returns the exit code to use. */
export async function openSession(
  recipeFile: string,
  options: SessionOptions,
): Promise<{ session?: Session; exit?: ExitCode }> {
  const { terminal } = options;
  const loaded = await loadRecipe(recipeFile, {
    env: options.env,
    strictInputs: options.strictInputs,
  });
  if (!loaded.ok) {
    terminal.err(
      `error: cannot read recipe '${recipeFile}': ${loaded.error.code === 'ENOENT' ? 'no such file' : loaded.error.code}\n`,
    );
    return { exit: EXIT.usage };
  }
  const { diagnostics, text, recipe } = loaded.value;
  const sources = new Map([[recipeFile, text]]);
  if (diagnostics.length > 0)
    terminal.err(formatDiagnostics(diagnostics, { sources, color: terminal.color }));
  if (!recipe || hasErrors(diagnostics)) {
    terminal.err(
      `${recipeFile}: invalid recipe; fix the errors above (emi-recipe validate ${recipeFile})\n`,
    );
    return { exit: EXIT.usage };
  }
  const built = buildGraph(defaultGraphInput(recipe));
  if (!built.graph) {
    terminal.err(formatDiagnostics(built.diagnostics, { sources, color: terminal.color }));
    return { exit: EXIT.usage };
  }
  const workDir =
    options.workDir !== undefined
      ? resolve(options.workDir)
      : defaultWorkDir(recipe.path, recipe.name);
  const base = { recipe, recipeFile, text, graph: built.graph, workDir };
  if (options.store !== undefined) {
    const opened = await openStore(options.store, {
      recipe,
      recipeFile,
      workDir,
      env: options.env,
      signal: options.signal ?? new AbortController().signal,
    });
    if (!opened.ok) {
      terminal.err(`error: ${opened.error.message}\n`);
      return { exit: opened.error.exit };
    }
    const store = opened.value;
    if (store.remote) {
      const read = await store.readState({ name: recipe.name, path: recipe.path });
      if (!read.ok) {
        await store.close();
        terminal.err(`error: ${describeStoreFailure(read.error, recipeFile)}\n`);
        return { exit: EXIT.failure };
      }
      return {
        session: { ...base, state: read.value.state, store, stateVersion: read.value.version },
      };
    }
    // The work directory: read as always (its messages name state.json).
    const state = await loadState(workDir, { name: recipe.name, path: recipe.path });
    if (!state.ok) {
      terminal.err(`error: ${describeStateLoadFailure(state.error, recipeFile)}\n`);
      return { exit: EXIT.failure };
    }
    return { session: { ...base, state: state.value, store, stateVersion: {} } };
  }
  const state = await loadState(workDir, { name: recipe.name, path: recipe.path });
  if (!state.ok) {
    terminal.err(`error: ${describeStateLoadFailure(state.error, recipeFile)}\n`);
    return { exit: EXIT.failure };
  }
  return { session: { ...base, state: state.value } };
}
