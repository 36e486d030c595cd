// The remote lock with a lease: created only if absent; a held one names its holder (or
// is waited for); an expired one is taken over by exactly one taker; renewals keep it,
// and a renewal that is refused or comes too late loses it; unlock needs the right ID.
import { describe, expect, test } from '@jest/globals';
import type { LockRequest, RecipeStore, StoreFailure } from '../../../src/run/store.js';
import { s3RecipeStore } from '../../../src/store/s3-store.js';
import {
  fakeCasObjects,
  fakeClock,
  type FakeCasObjects,
  type FakeClock,
} from '../../helpers/fake-cas-objects.js';

const LOCK_KEY = 'ci/demo/state.json.lock';
const LEASE = 60_000;

function storeOn(objects: FakeCasObjects, clock: FakeClock): RecipeStore {
  return s3RecipeStore({
    objects,
    store: { url: 's3://bucket/ci', bucket: 'bucket', prefix: 'ci' },
    recipeName: 'demo',
    memo: { read: () => Promise.resolve(undefined), write: () => Promise.resolve() },
    locking: true,
    signal: new AbortController().signal,
    now: clock.now,
    sleep: clock.sleep,
    pollMs: 1000,
  });
}

function request(extra: Partial<LockRequest> = {}): LockRequest {
  return {
    operation: 'apply demo.yaml',
    version: '1.2.3',
    ciJobUrl: 'https://github.com/o/r/actions/runs/7',
    leaseMs: LEASE,
    waitMs: 0,
    signal: new AbortController().signal,
    ...extra,
  };
}

async function take(store: RecipeStore, extra: Partial<LockRequest> = {}) {
  const r = await store.lock(request(extra));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('lock in an S3 store', () => {
  test('taken with If-None-Match: *; it holds id, operation, who, pid, CI job, version, created, expires', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const lock = await take(storeOn(objects, clock));
    expect(objects.log).toContain(`put ${LOCK_KEY} if-none-match`);
    const doc = JSON.parse(objects.objects.get(LOCK_KEY)?.body ?? '{}') as Record<string, unknown>;
    expect(doc).toEqual({
      id: lock.holder.id,
      operation: 'apply demo.yaml',
      who: expect.stringMatching(/^.+@.+$/),
      pid: process.pid,
      ciJobUrl: 'https://github.com/o/r/actions/runs/7',
      version: '1.2.3',
      created: new Date(clock.now()).toISOString(),
      expires: new Date(clock.now() + LEASE).toISOString(),
    });
    await lock.release();
    expect(objects.objects.has(LOCK_KEY)).toBe(false);
  });

  test('a held lock is refused at once, naming its holder', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const first = await take(storeOn(objects, clock));
    const second = await storeOn(objects, clock).lock(request());
    expect(!second.ok && second.error).toEqual({
      reason: 'lock-held',
      url: `s3://bucket/${LOCK_KEY}`,
      holder: first.holder,
    });
    await first.release();
  });

  test('--lock-timeout: waits (polling) and takes the lock once it is released', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const first = await take(storeOn(objects, clock));
    const waits: string[] = [];
    const pending = storeOn(objects, clock).lock(
      request({ waitMs: 10 * 60_000, onWait: (h) => waits.push(h.id) }),
    );
    await clock.advance(5000);
    expect(waits).toEqual([first.holder.id]);
    await first.release();
    await clock.advance(1000);
    const second = await pending;
    expect(second.ok).toBe(true);
    if (second.ok) await second.value.release();
  });

  test('--lock-timeout runs out: refused naming the holder', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const first = await take(storeOn(objects, clock));
    const pending = storeOn(objects, clock).lock(request({ waitMs: 3000 }));
    await clock.advance(4000);
    const second = await pending;
    expect(!second.ok && second.error.reason).toBe('lock-held');
    await first.release();
  });

  test('an expired lease (holder SIGKILLed) is taken over over its ETag', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    // A holder that died: its lock object stays, its lease ends.
    const deadHolder = {
      id: 'dead-1',
      operation: 'apply demo.yaml',
      who: 'ci@runner-a',
      pid: 4242,
      version: '1.2.3',
      created: new Date(clock.now() - 2 * LEASE).toISOString(),
      expires: new Date(clock.now() - 1).toISOString(),
    };
    objects.objects.set(LOCK_KEY, { body: JSON.stringify(deadHolder), etag: '"dead"' });
    const lock = await take(storeOn(objects, clock));
    expect(lock.tookOver).toEqual(deadHolder);
    expect(objects.log).toContain(`put ${LOCK_KEY} if-match`);
    await lock.release();
  });

  test('two takers of one expired lease: exactly one wins', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const expired = {
      id: 'dead-2',
      operation: 'apply',
      who: 'x@y',
      pid: 1,
      version: '1',
      created: new Date(clock.now() - LEASE).toISOString(),
      expires: new Date(clock.now() - 1).toISOString(),
    };
    objects.objects.set(LOCK_KEY, { body: JSON.stringify(expired), etag: '"old"' });
    const [a, b] = await Promise.all([
      storeOn(objects, clock).lock(request()),
      storeOn(objects, clock).lock(request()),
    ]);
    expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
    const loser = a.ok ? b : a;
    const winner = a.ok ? a : b;
    expect(!loser.ok && loser.error.reason).toBe('lock-held');
    if (winner.ok) await winner.value.release();
  });

  test('renewals keep the lock past its first lease', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const lock = await take(storeOn(objects, clock));
    await clock.advance(3 * LEASE);
    expect(lock.lost.aborted).toBe(false);
    const doc = JSON.parse(objects.objects.get(LOCK_KEY)?.body ?? '{}') as { expires: string };
    expect(Date.parse(doc.expires)).toBeGreaterThan(clock.now());
    // Another run still finds it held.
    const other = await storeOn(objects, clock).lock(request());
    expect(!other.ok && other.error.reason).toBe('lock-held');
    await lock.release();
  });

  test('a renewal refused (forced off and taken by another run) loses the lock', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const store = storeOn(objects, clock);
    const lock = await take(store);
    expect((await storeOn(objects, clock).unlock(lock.holder.id)).ok).toBe(true);
    const thief = await take(storeOn(objects, clock));
    await clock.advance(LEASE / 3 + 1);
    expect(lock.lost.aborted).toBe(true);
    expect((lock.lost.reason as StoreFailure).reason).toBe('lock-lost');
    // Releasing a lost lock leaves the new holder's alone.
    await lock.release();
    expect(objects.objects.has(LOCK_KEY)).toBe(true);
    await thief.release();
  });

  test('renewals that cannot reach the store until the lease ends lose the lock', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const lock = await take(storeOn(objects, clock));
    objects.failNext('put', 100);
    await clock.advance(LEASE / 3 + 1);
    expect(lock.lost.aborted).toBe(false); // one failed renewal: the lease still runs
    await clock.advance(LEASE);
    expect(lock.lost.aborted).toBe(true);
    expect((lock.lost.reason as { detail: string }).detail).toContain('lease ran out');
    await lock.release();
  });

  test('unlock refuses a wrong ID and removes the lock with the right one', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const lock = await take(storeOn(objects, clock));
    const admin = storeOn(objects, clock);
    const wrong = await admin.unlock('not-the-id');
    expect(!wrong.ok && wrong.error).toEqual({
      reason: 'unlock-mismatch',
      url: `s3://bucket/${LOCK_KEY}`,
      given: 'not-the-id',
      holder: lock.holder,
    });
    expect(objects.objects.has(LOCK_KEY)).toBe(true);
    const right = await admin.unlock(lock.holder.id);
    expect(right.ok && right.value.id).toBe(lock.holder.id);
    expect(objects.objects.has(LOCK_KEY)).toBe(false);
    const none = await admin.unlock(lock.holder.id);
    expect(!none.ok && none.error.reason).toBe('unlock-mismatch');
    await lock.release();
  });

  test('readLock names the holder, or nothing when free', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const store = storeOn(objects, clock);
    expect(await store.readLock()).toEqual({ ok: true, value: undefined });
    const lock = await take(store);
    const seen = await store.readLock();
    expect(seen.ok && seen.value?.id).toBe(lock.holder.id);
    await lock.release();
  });

  test('--no-lock takes nothing', async () => {
    const objects = fakeCasObjects();
    const clock = fakeClock();
    const store = s3RecipeStore({
      objects,
      store: { url: 's3://bucket/ci', bucket: 'bucket', prefix: 'ci' },
      recipeName: 'demo',
      memo: { read: () => Promise.resolve(undefined), write: () => Promise.resolve() },
      locking: false,
      signal: new AbortController().signal,
      now: clock.now,
      sleep: clock.sleep,
    });
    const lock = await take(store);
    expect(objects.objects.size).toBe(0);
    await lock.release();
  });
});
