// The remote RecipeStore: a recipe's state and lock as two objects below an S3 prefix
// (s3-state.ts, s3-lock.ts), with the work directory's memo of what it last saw there
// (seen-memo.ts). Knows nothing of endpoints or credentials: it is given CasObjects.
import { ok } from '../core/result.js';
import { sleep as realSleep } from '../core/sleep.js';
import type { LockHolder, RecipeStore, StoreLock } from '../run/store.js';
import type { StepCache } from '../run/step-cache.js';
import type { CasObjects } from './cas-objects.js';
import { newHolder } from './lock-holder.js';
import { readLockObject, takeLockObject, unlockObject, type LockObject } from './s3-lock.js';
import { readStateObject, writeStateObject, type StateObject } from './s3-state.js';
import type { SeenMemo } from './seen-memo.js';
import { objectUrl, recipeKeys } from './store-url.js';
import type { S3Url } from '../core/s3-url.js';

export interface S3StoreOptions {
  readonly objects: CasObjects;
  readonly store: S3Url;
  readonly recipeName: string;
  /** The work directory's memo of lineage and serial seen here; plan's does not write. */
  readonly memo: SeenMemo;
  /** False with --no-lock: lock() takes nothing (one runner only, said loudly by the CLI). */
  readonly locking: boolean;
  readonly signal: AbortSignal;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly pollMs?: number;
  /** Called by close() (the SDK clients, an embedded cloud the store started). */
  readonly onClose?: () => Promise<void>;
  /** The step cache below the same prefix, if any. */
  readonly cache?: StepCache;
}

/** A lock that is not taken (--no-lock): never lost, nothing to release. */
function noLock(holder: LockHolder): StoreLock {
  return { holder, lost: new AbortController().signal, release: () => Promise.resolve() };
}

/** The RecipeStore of `options.recipeName` below `options.store`. */
export function s3RecipeStore(options: S3StoreOptions): RecipeStore {
  const keys = recipeKeys(options.store, options.recipeName);
  const stateUrl = objectUrl(options.store, keys.state);
  const state: StateObject = {
    objects: options.objects,
    key: keys.state,
    url: stateUrl,
    signal: options.signal,
  };
  const now = options.now ?? Date.now;
  const lock: LockObject = {
    objects: options.objects,
    key: keys.lock,
    url: objectUrl(options.store, keys.lock),
    now,
    sleep: options.sleep ?? realSleep,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  };
  return {
    url: stateUrl,
    remote: true,
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    readState: async (recipe) => {
      const seen = await options.memo.read(stateUrl);
      const read = await readStateObject(state, recipe, seen);
      if (read.ok && read.value.version.token !== undefined) {
        const { lineage, serial } = read.value.version;
        if (lineage !== undefined && serial !== undefined)
          await options.memo.write(stateUrl, { lineage, serial });
      }
      return read;
    },
    writeState: async (next, version) => {
      const written = await writeStateObject(state, next, version);
      if (written.ok) {
        const { lineage, serial } = written.value;
        if (lineage !== undefined && serial !== undefined)
          await options.memo.write(stateUrl, { lineage, serial });
      }
      return written;
    },
    lock: async (request) =>
      options.locking ? takeLockObject(lock, request) : ok(noLock(newHolder(request, now()))),
    readLock: () => readLockObject(lock, options.signal),
    unlock: (id) => unlockObject(lock, id, options.signal),
    close: async () => {
      await options.onClose?.();
    },
  };
}
