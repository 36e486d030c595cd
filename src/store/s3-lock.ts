// The lock of a remote store: an object beside the state (`state.json.lock`), created
// only if absent (If-None-Match: *), renewed over its own ETag (If-Match) while the run
// lasts, and taken over when its lease ran out (If-Match on the expired lock's ETag, so
// two takers cannot both win). Like Terraform's S3 lock file, with a lease.
import { err, ok, type Result } from '../core/result.js';
import type { LockHolder, LockRequest, StoreFailure, StoreLock } from '../run/store.js';
import type { CasObjects } from './cas-objects.js';
import { newHolder, parseHolder } from './lock-holder.js';

/** Where the lock object is, how to reach it, and the clock (injected by tests). */
export interface LockObject {
  readonly objects: CasObjects;
  readonly key: string;
  /** `s3://bucket/key`, for messages. */
  readonly url: string;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** How often a held lock is polled while waiting (default 2 s). */
  readonly pollMs?: number;
}

type Seen = { readonly holder: LockHolder | undefined; readonly etag: string } | undefined;

async function look(where: LockObject, signal: AbortSignal): Promise<Result<Seen, StoreFailure>> {
  const got = await where.objects.get(where.key, signal);
  if (!got.ok)
    return err({ reason: 'store-unreachable', url: where.url, detail: got.error.detail });
  if (got.value === undefined) return ok(undefined);
  return ok({ holder: parseHolder(got.value.body), etag: got.value.etag });
}

/** An unreadable lock, or one whose lease ended, is free to take over. */
function isExpired(holder: LockHolder | undefined, now: number): boolean {
  if (holder === undefined) return true;
  if (holder.expires === undefined) return false;
  const end = Date.parse(holder.expires);
  return Number.isNaN(end) || end <= now;
}

/** The current holder, or undefined when the lock is free. */
export async function readLockObject(
  where: LockObject,
  signal: AbortSignal,
): Promise<Result<LockHolder | undefined, StoreFailure>> {
  const seen = await look(where, signal);
  if (!seen.ok) return seen;
  return ok(seen.value?.holder);
}

/**
 * Takes the lock for `request`: creates it, or takes over an expired one, or waits up to
 * `request.waitMs` for a held one (polling), then refuses naming its holder.
 */
export async function takeLockObject(
  where: LockObject,
  request: LockRequest,
): Promise<Result<StoreLock, StoreFailure>> {
  const started = where.now();
  let told = false;
  for (;;) {
    const holder = newHolder(request, where.now());
    const body = JSON.stringify(holder);
    const created = await where.objects.put(where.key, body, { ifNoneMatch: '*' }, request.signal);
    if (created.ok) return ok(keepLock(where, request, holder, created.value.etag, undefined));
    if (created.error.reason === 'io')
      return err({ reason: 'store-unreachable', url: where.url, detail: created.error.detail });
    const seen = await look(where, request.signal);
    if (!seen.ok) return seen;
    if (seen.value === undefined) continue; // released in between: try again
    if (isExpired(seen.value.holder, where.now())) {
      const took = await where.objects.put(
        where.key,
        body,
        { ifMatch: seen.value.etag },
        request.signal,
      );
      if (took.ok) return ok(keepLock(where, request, holder, took.value.etag, seen.value.holder));
      if (took.error.reason === 'io')
        return err({ reason: 'store-unreachable', url: where.url, detail: took.error.detail });
      continue; // another taker won, or the holder renewed just in time: look again
    }
    const current = seen.value.holder as LockHolder;
    if (where.now() - started >= request.waitMs || request.signal.aborted)
      return err({ reason: 'lock-held', url: where.url, holder: current });
    if (!told) request.onWait?.(current);
    told = true;
    await where.sleep(
      Math.min(where.pollMs ?? 2000, request.waitMs - (where.now() - started)),
      request.signal,
    );
  }
}

/**
 * A held lock: renewed every third of the lease over its own ETag. A renewal refused (the
 * lock was forced off or taken over) or not done before the lease ended loses it: `lost`
 * aborts with a `lock-lost` failure as its reason. release() removes it if still ours.
 */
function keepLock(
  where: LockObject,
  request: LockRequest,
  holder: LockHolder,
  etag: string,
  tookOver: LockHolder | undefined,
): StoreLock {
  const lost = new AbortController();
  const stop = new AbortController();
  let current = { holder, etag };
  const lose = (detail: string): void => {
    if (lost.signal.aborted) return;
    const failure: StoreFailure = { reason: 'lock-lost', url: where.url, detail };
    lost.abort(failure);
  };
  const renew = async (): Promise<void> => {
    const next: LockHolder = {
      ...current.holder,
      expires: new Date(where.now() + request.leaseMs).toISOString(),
    };
    const put = await where.objects.put(
      where.key,
      JSON.stringify(next),
      { ifMatch: current.etag },
      stop.signal,
    );
    if (stop.signal.aborted) return;
    if (put.ok) {
      current = { holder: next, etag: put.value.etag };
      return;
    }
    if (put.error.reason === 'precondition-failed') {
      lose(
        'the lock was removed or taken over by another run (emi-recipe unlock, or its lease had run out)',
      );
      return;
    }
    const end = Date.parse(current.holder.expires ?? '');
    if (where.now() >= end)
      lose(`its lease ran out while the store could not be reached: ${put.error.detail}`);
  };
  const loop = (async () => {
    const every = Math.max(50, Math.floor(request.leaseMs / 3));
    const over = (): boolean => stop.signal.aborted || lost.signal.aborted;
    while (!over()) {
      await where.sleep(every, stop.signal);
      if (over()) return;
      await renew();
    }
  })();
  return {
    holder,
    ...(tookOver !== undefined ? { tookOver } : {}),
    lost: lost.signal,
    release: async () => {
      stop.abort();
      await loop.catch(() => undefined);
      if (lost.signal.aborted) return;
      // Remove it only if it is still this lock (the ETag of the last renewal).
      const seen = await look(where, new AbortController().signal);
      if (seen.ok && seen.value?.etag === current.etag)
        await where.objects.remove(where.key, new AbortController().signal);
    },
  };
}

/** Removes the lock if its id is `id` (`emi-recipe unlock ID`); returns the holder removed. */
export async function unlockObject(
  where: LockObject,
  id: string,
  signal: AbortSignal,
): Promise<Result<LockHolder, StoreFailure>> {
  const seen = await look(where, signal);
  if (!seen.ok) return seen;
  const holder = seen.value?.holder;
  if (holder?.id !== id)
    return err({
      reason: 'unlock-mismatch',
      url: where.url,
      given: id,
      ...(holder !== undefined ? { holder } : {}),
    });
  const removed = await where.objects.remove(where.key, signal);
  if (!removed.ok)
    return err({ reason: 'store-unreachable', url: where.url, detail: removed.error.detail });
  return ok(holder);
}
