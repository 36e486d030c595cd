// The store of a recipe's state and lock as run/ and the commands see it: read the state
// with a version, write it only over that version (compare-and-swap), and take, renew,
// release or force off the lock. Types only: the implementations (the work directory,
// an S3 prefix) are src/store/'s, and cli/ picks one. A step cache can sit beside it.
import type { Result } from '../core/result.js';
import type { State } from './state.js';
import type { StepCache } from './step-cache.js';

/**
 * Who holds a lock, as written in the lock: enough to find the holder (host, pid, CI job)
 * and to force the lock off by its id (`emi-recipe unlock ID`), like Terraform's lock info.
 */
export interface LockHolder {
  /** Random id (a UUID); `emi-recipe unlock ID` names it. */
  readonly id: string;
  /** The command that holds it: `apply recipes/x.yaml`. */
  readonly operation: string;
  /** user@host. */
  readonly who: string;
  readonly pid: number;
  /** The CI job that runs the holder, when the CI says (GitHub Actions, GitLab CI). */
  readonly ciJobUrl?: string;
  /** The emi-recipe version of the holder. */
  readonly version: string;
  /** ISO time the lock was taken. */
  readonly created: string;
  /**
   * ISO time the lease ends unless renewed (remote stores). Absent for the work
   * directory's lock, which is held while its process lives.
   */
  readonly expires?: string;
}

/** The state as read, with the version a write must name to replace it. */
export interface VersionedState {
  readonly state: State;
  readonly version: StateVersion;
}

/**
 * Opaque to callers: what the store needs to refuse a write over a state it did not
 * read (an ETag for S3; nothing for the work directory, whose lock is the guard).
 */
export interface StateVersion {
  readonly token?: string;
  readonly lineage?: string;
  readonly serial?: number;
}

/** Why the store refused or failed: facts, described by store/describe-store.ts. */
export type StoreFailure =
  /** The server did not answer, or answered an error (network, 5xx, credentials). */
  | { readonly reason: 'store-unreachable'; readonly url: string; readonly detail: string }
  /** Another runner wrote the state since this one read it (the conditional write was refused). */
  | { readonly reason: 'state-conflict'; readonly url: string }
  /** The state is not one this emi-recipe can read (corrupt, another format version). */
  | { readonly reason: 'state-invalid'; readonly url: string; readonly detail: string }
  /** The state belongs to another recipe. */
  | {
      readonly reason: 'state-recipe';
      readonly url: string;
      readonly found: string;
      readonly expected: string;
    }
  /** The state has another lineage than the one this work directory last saw there. */
  | {
      readonly reason: 'state-lineage';
      readonly url: string;
      readonly found: string;
      readonly seen: string;
    }
  /** The state is older than the one this work directory (or this run) last saw there. */
  | {
      readonly reason: 'state-serial';
      readonly url: string;
      readonly found: number;
      readonly seen: number;
    }
  /** Another run holds the lock (and it did not come free within --lock-timeout). */
  | { readonly reason: 'lock-held'; readonly url: string; readonly holder: LockHolder }
  /** The lock was lost while running: its lease ran out, or it was forced off or taken. */
  | { readonly reason: 'lock-lost'; readonly url: string; readonly detail: string }
  /** The server ignores conditional writes: it cannot lock or compare-and-swap. */
  | {
      readonly reason: 'no-conditional-writes';
      readonly url: string;
      readonly server: string;
      /** What the probe saw (a second create overwrote the first…). */
      readonly found: string;
    }
  /** `unlock ID` named another lock than the one held (or none is held). */
  | {
      readonly reason: 'unlock-mismatch';
      readonly url: string;
      readonly given: string;
      readonly holder?: LockHolder;
    }
  /** `unlock ID` of a work directory's lock whose process still runs here. */
  | { readonly reason: 'unlock-alive'; readonly url: string; readonly holder: LockHolder }
  /** The store's address or its publishing target is wrong (`problem` says which setting). */
  | { readonly reason: 'store-config'; readonly url: string; readonly problem: string }
  /** The work directory's file system refused (read-only, full, permissions). */
  | { readonly reason: 'fs-error'; readonly url: string; readonly detail: string };

/** What a lock request says about the run that takes it. */
export interface LockRequest {
  readonly operation: string;
  readonly version: string;
  readonly ciJobUrl?: string;
  /** How long a lease lasts unless renewed (remote stores renew at a third of it). */
  readonly leaseMs: number;
  /** Wait up to this long for a held lock (polling); 0: refuse at once. */
  readonly waitMs: number;
  /** Told once when the lock is held and waiting starts. */
  readonly onWait?: (holder: LockHolder) => void;
  readonly signal: AbortSignal;
}

/** A lock this process holds. */
export interface StoreLock {
  readonly holder: LockHolder;
  /** The holder whose expired lease (or dead process) this lock took over, if any. */
  readonly tookOver?: LockHolder;
  /** Aborted, with a StoreFailure (`lock-lost`) as its reason, when the lock is lost. */
  readonly lost: AbortSignal;
  /** Stops renewing and removes the lock if it is still ours; never rejects. */
  release(): Promise<void>;
}

/**
 * A recipe's store. `url` names it in messages (`s3://bucket/prefix/name/state.json` or
 * the work directory's path); `remote` is true when other machines share it.
 */
export interface RecipeStore {
  readonly url: string;
  readonly remote: boolean;
  /** The step cache beside the state (remote stores; the work directory has none). */
  readonly cache?: StepCache;
  /** The state, or an empty one for the recipe when none exists yet. */
  readState(recipe: { name: string; path: string }): Promise<StoreResult<VersionedState>>;
  /** Writes `state` if the stored one is still `version`; returns the new version. */
  writeState(state: State, version: StateVersion): Promise<StoreResult<StateVersion>>;
  lock(request: LockRequest): Promise<StoreResult<StoreLock>>;
  /** The current holder, or undefined when free. */
  readLock(): Promise<StoreResult<LockHolder | undefined>>;
  /** Removes the lock whose id is `id`, and only that one; returns its holder. */
  unlock(id: string): Promise<StoreResult<LockHolder>>;
  close(): Promise<void>;
}

export type StoreResult<T> = Result<T, StoreFailure>;

/**
 * Thrown by a StateStore write (run/state.ts) whose store refused or failed: the runner
 * turns it into the step's failure with this message (not an internal error), and the
 * command that owns the run decides the exit code from `failure`.
 */
export class StoreWriteError extends Error {
  readonly failure: StoreFailure;
  constructor(failure: StoreFailure, message: string) {
    super(message);
    this.name = 'StoreWriteError';
    this.failure = failure;
  }
}
