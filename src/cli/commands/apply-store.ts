// apply's side of a shared store: take its lock (waiting with --lock-timeout, saying who
// holds it), write the state through a compare-and-swap that remembers the last version,
// and stop the run when the lock is lost or a write is refused. The work directory's own
// lock and state stay apply.ts's (unchanged for the default store).
import { err, ok, type Result } from '../../core/result.js';
import {
  describeStateLoadFailure,
  loadState,
  type State,
  type StateWriter,
} from '../../run/state.js';
import {
  StoreWriteError,
  type RecipeStore,
  type StateVersion,
  type StoreFailure,
  type StoreLock,
} from '../../run/store.js';
import { describeStoreFailure } from '../../store/describe-store.js';
import { ciJobUrlOf, describeHolder } from '../../store/lock-holder.js';
import { formatDuration } from '../../recipe/units.js';
import type { Terminal } from '../output/terminal.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { storeExitCode } from '../store-choice.js';
import type { Session } from './session.js';

/** The settings of apply's remote lock. */
export interface RemoteLockOptions {
  readonly operation: string;
  readonly version: string;
  readonly leaseMs: number;
  /** --lock-timeout; 0: refuse at once. */
  readonly waitMs: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly terminal: Terminal;
  readonly signal: AbortSignal;
}

/** Takes the store's lock, telling the user when it waits and what it took over. */
export async function takeRemoteLock(store: RecipeStore, options: RemoteLockOptions) {
  const ciJobUrl = ciJobUrlOf(options.env);
  const taken = await store.lock({
    operation: options.operation,
    version: options.version,
    ...(ciJobUrl !== undefined ? { ciJobUrl } : {}),
    leaseMs: options.leaseMs,
    waitMs: options.waitMs,
    signal: options.signal,
    onWait: (holder) => {
      options.terminal.err(
        `Waiting up to ${formatDuration(options.waitMs)} for the lock ${store.url}.lock, held by ${describeHolder(holder)}...\n`,
      );
    },
  });
  if (taken.ok && taken.value.tookOver !== undefined)
    options.terminal.err(
      `note: took over the lock whose lease had run out: ${describeHolder(taken.value.tookOver)}\n`,
    );
  return taken;
}

/**
 * The run's link to a remote store: a StateWriter doing compare-and-swap from `version`
 * (each write names the version the previous one made), and `abort` (a signal the run
 * honours) aborted with the store failure when the lock is lost or a write is refused.
 */
export interface RemoteRun {
  readonly writer: StateWriter;
  readonly signal: AbortSignal;
  /** The failure that stopped the run, if any. */
  problem(): StoreFailure | undefined;
  dispose(): void;
}

export function remoteRun(
  store: RecipeStore,
  lock: StoreLock,
  context: { version: StateVersion; recipeFile: string; signal: AbortSignal },
): RemoteRun {
  const stop = new AbortController();
  let problem: StoreFailure | undefined;
  let version = context.version;
  const fail = (failure: StoreFailure): StoreWriteError => {
    problem ??= failure;
    stop.abort(failure);
    return new StoreWriteError(failure, describeStoreFailure(failure, context.recipeFile));
  };
  const onLost = (): void => {
    fail(lock.lost.reason as StoreFailure);
  };
  lock.lost.addEventListener('abort', onLost, { once: true });
  if (lock.lost.aborted) onLost();
  const writer = async (state: State): Promise<void> => {
    if (lock.lost.aborted) throw fail(lock.lost.reason as StoreFailure);
    const written = await store.writeState(state, version);
    if (!written.ok) throw fail(written.error);
    version = written.value;
  };
  return {
    writer,
    signal: AbortSignal.any([context.signal, stop.signal]),
    problem: () => problem,
    dispose: () => {
      lock.lost.removeEventListener('abort', onLost);
    },
  };
}

/**
 * The state read again under the lock(s) (another apply may have finished in between):
 * from the shared store with its version, else from the work directory as always.
 */
export async function readStateUnderLock(
  opened: Session,
  remote: RecipeStore | undefined,
  terminal: Terminal,
): Promise<Result<Session, ExitCode>> {
  const recipe = { name: opened.recipe.name, path: opened.recipe.path };
  if (remote !== undefined) {
    const read = await remote.readState(recipe);
    if (!read.ok) {
      terminal.err(`error: ${describeStoreFailure(read.error, opened.recipeFile)}\n`);
      return err(storeExitCode(read.error));
    }
    return ok({ ...opened, state: read.value.state, stateVersion: read.value.version });
  }
  const state = await loadState(opened.workDir, recipe);
  if (!state.ok) {
    terminal.err(`error: ${describeStateLoadFailure(state.error, opened.recipeFile)}\n`);
    return err(EXIT.failure);
  }
  return ok({ ...opened, state: state.value });
}
