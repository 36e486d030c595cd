// The work directory as a RecipeStore: state.json (run/state.ts, atomic writes) and the
// lock file (run/lock.ts, held while its process lives). The default store, as fast as
// before: no versions to compare (the work directory's lock is the guard), no lease.
import { hostname } from 'node:os';
import { describeFsFailure, fsFailureOf } from '../core/fs-failure.js';
import { err, ok } from '../core/result.js';
import { lockPath } from '../run/layout.js';
import { isAlive, readLock, removeLockById, takeLock, type LockInfo } from '../run/lock.js';
import { describeStateLoadFailure, loadState, saveState } from '../run/state.js';
import type { LockHolder, RecipeStore, StoreFailure, StoreResult } from '../run/store.js';

/** A lock file's holder in the shape every store uses. */
export function holderOfLockInfo(info: LockInfo): LockHolder {
  return {
    id: info.id ?? '(none: written by an older emi-recipe)',
    operation: info.command,
    who: `?@${info.host}`,
    pid: info.pid,
    version: '?',
    created: info.since,
  };
}

function fsError(error: unknown, path: string, action: string): StoreFailure {
  const failure = fsFailureOf(error, path);
  if (!failure) throw error;
  return { reason: 'fs-error', url: path, detail: describeFsFailure(failure, { action }) };
}

/**
 * The store of `workDir`. `recipeFile` names the recipe in the advice of state failures
 * (emi-recipe clean FILE).
 */
export function localRecipeStore(workDir: string, recipeFile: string): RecipeStore {
  const catching = async <T>(
    action: string,
    path: string,
    run: () => Promise<StoreResult<T>>,
  ): Promise<StoreResult<T>> => {
    try {
      return await run();
    } catch (error) {
      return err(fsError(error, path, action));
    }
  };
  return {
    url: workDir,
    remote: false,
    readState: async (recipe) => {
      const loaded = await loadState(workDir, recipe);
      if (!loaded.ok)
        return err({
          reason: 'state-invalid',
          url: workDir,
          detail: describeStateLoadFailure(loaded.error, recipeFile),
        });
      return ok({ state: loaded.value, version: {} });
    },
    writeState: (state, version) =>
      catching('write', workDir, async () => {
        await saveState(workDir, state);
        return ok(version);
      }),
    lock: (request) =>
      catching('write the lock file', lockPath(workDir), async () => {
        const taken = await takeLock(workDir, request.operation);
        if (taken.ok) {
          const held = taken.value;
          return ok({
            holder: holderOfLockInfo(held.info),
            ...(held.staleHolder ? { tookOver: holderOfLockInfo(held.staleHolder) } : {}),
            lost: new AbortController().signal,
            release: () => held.release(),
          });
        }
        if (taken.error.reason === 'locked')
          return err({
            reason: 'lock-held',
            url: workDir,
            holder: holderOfLockInfo(taken.error.holder),
          });
        return err({
          reason: 'fs-error',
          url: taken.error.path,
          detail: describeFsFailure(taken.error, { action: 'write the lock file' }),
        });
      }),
    readLock: () =>
      catching('read the lock file', lockPath(workDir), async () => {
        const state = await readLock(workDir);
        return ok(state.state === 'held' ? holderOfLockInfo(state.holder) : undefined);
      }),
    unlock: (id) =>
      catching('remove the lock file', lockPath(workDir), async () => {
        const seen = await readLock(workDir);
        const holder = seen.state !== 'free' && seen.holder ? seen.holder : undefined;
        if (holder?.id !== id)
          return err({
            reason: 'unlock-mismatch',
            url: lockPath(workDir),
            given: id,
            ...(holder !== undefined ? { holder: holderOfLockInfo(holder) } : {}),
          });
        // A living process on this machine still uses the work directory: stop it instead.
        if (holder.host === hostname() && isAlive(holder))
          return err({
            reason: 'unlock-alive',
            url: lockPath(workDir),
            holder: holderOfLockInfo(holder),
          });
        const removed = await removeLockById(workDir, id);
        if (!removed.removed)
          return err({ reason: 'unlock-mismatch', url: lockPath(workDir), given: id });
        return ok(holderOfLockInfo(holder));
      }),
    close: () => Promise.resolve(),
  };
}
