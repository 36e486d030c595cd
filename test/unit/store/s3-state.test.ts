// The remote state: created only if absent, replaced only over the ETag it was read
// with; a lost race is refused and never merged; lineage and serial refuse a state of
// another history or an older copy; a write whose answer was lost is not a conflict.
import { describe, expect, test } from '@jest/globals';
import { emptyState, withStep, type State, type StepRecord } from '../../../src/run/state.js';
import type { RecipeStore, StateVersion } from '../../../src/run/store.js';
import { s3RecipeStore } from '../../../src/store/s3-store.js';
import type { Seen } from '../../../src/store/s3-state.js';
import type { SeenMemo } from '../../../src/store/seen-memo.js';
import { fakeCasObjects, type FakeCasObjects } from '../../helpers/fake-cas-objects.js';

const recipe = { name: 'demo', path: '/runner-a/demo.yaml' };
const STATE_KEY = 'team/demo/state.json';

function memoryMemo(): SeenMemo & { entries: Map<string, Seen> } {
  const entries = new Map<string, Seen>();
  return {
    entries,
    read: (url) => Promise.resolve(entries.get(url)),
    write: (url, seen) => {
      entries.set(url, seen);
      return Promise.resolve();
    },
  };
}

function storeOn(objects: FakeCasObjects, memo: SeenMemo = memoryMemo()): RecipeStore {
  return s3RecipeStore({
    objects,
    store: { url: 's3://bucket/team', bucket: 'bucket', prefix: 'team' },
    recipeName: 'demo',
    memo,
    locking: true,
    signal: new AbortController().signal,
  });
}

function record(fingerprint: string): StepRecord {
  return {
    kind: 'create-disk',
    fingerprint,
    components: { kind: 'create-disk', params: {}, inputs: {}, upstream: {}, tools: {} },
    artifacts: {},
    values: { note: fingerprint },
    outputDigest: `digest-${fingerprint}`,
    startedAt: '2026-11-30T12:00:00.000Z',
    finishedAt: '2026-11-30T12:00:01.000Z',
  };
}

async function read(store: RecipeStore): Promise<{ state: State; version: StateVersion }> {
  const r = await store.readState(recipe);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('state in an S3 store', () => {
  test('the first write creates the object (If-None-Match: *) with a lineage and serial 1', async () => {
    const objects = fakeCasObjects();
    const store = storeOn(objects);
    const first = await read(store);
    expect(first.state.steps).toEqual({});
    expect(first.version.token).toBeUndefined();
    const written = await store.writeState(
      withStep(first.state, 'disk', record('a')),
      first.version,
    );
    expect(written.ok).toBe(true);
    expect(objects.log).toContain(`put ${STATE_KEY} if-none-match`);
    const doc = JSON.parse(objects.objects.get(STATE_KEY)?.body ?? '{}') as State;
    expect(doc.serial).toBe(1);
    expect(doc.lineage).toBe(first.version.lineage);
    expect(doc.steps.disk?.fingerprint).toBe('a');
  });

  test('each write goes over the last ETag (If-Match) and increments the serial', async () => {
    const objects = fakeCasObjects();
    const store = storeOn(objects);
    const first = await read(store);
    const v1 = await store.writeState(first.state, first.version);
    if (!v1.ok) throw new Error('write failed');
    const v2 = await store.writeState(withStep(first.state, 'disk', record('b')), v1.value);
    expect(v2.ok && v2.value.serial).toBe(2);
    expect(objects.log.filter((l) => l === `put ${STATE_KEY} if-match`)).toHaveLength(1);
    const again = await read(storeOn(objects));
    expect(again.version.serial).toBe(2);
    expect(again.state.steps.disk?.fingerprint).toBe('b');
    // The recipe's path is this runner's, not the writer's.
    expect(again.state.recipe.path).toBe(recipe.path);
  });

  test('two runners from the same version: the second write is refused, never merged', async () => {
    const objects = fakeCasObjects();
    const seed = storeOn(objects);
    const s0 = await read(seed);
    const created = await seed.writeState(s0.state, s0.version);
    expect(created.ok).toBe(true);
    const a = storeOn(objects);
    const b = storeOn(objects);
    const seenA = await read(a);
    const seenB = await read(b);
    expect(
      (await a.writeState(withStep(seenA.state, 'from-a', record('a')), seenA.version)).ok,
    ).toBe(true);
    const lost = await b.writeState(withStep(seenB.state, 'from-b', record('b')), seenB.version);
    expect(lost).toEqual({
      ok: false,
      error: { reason: 'state-conflict', url: `s3://bucket/${STATE_KEY}` },
    });
    const final = JSON.parse(objects.objects.get(STATE_KEY)?.body ?? '{}') as State;
    expect(Object.keys(final.steps)).toEqual(['from-a']);
  });

  test('two runners creating the state at once: one wins, the other is refused', async () => {
    const objects = fakeCasObjects();
    const a = storeOn(objects);
    const b = storeOn(objects);
    const seenA = await read(a);
    const seenB = await read(b);
    expect((await a.writeState(seenA.state, seenA.version)).ok).toBe(true);
    const lost = await b.writeState(seenB.state, seenB.version);
    expect(!lost.ok && lost.error.reason).toBe('state-conflict');
  });

  test('a write whose answer was lost (and whose retry met itself) is done, not a conflict', async () => {
    const objects = fakeCasObjects();
    const store = storeOn(objects);
    const s0 = await read(store);
    const v1 = await store.writeState(s0.state, s0.version);
    if (!v1.ok) throw new Error('write failed');
    objects.loseNextPutAnswer();
    const next = withStep(s0.state, 'disk', record('c'));
    const failed = await store.writeState(next, v1.value);
    // The io error is reported as such (the SDK's own retries are over)…
    expect(!failed.ok && failed.error.reason).toBe('store-unreachable');
    // …and writing the same document again over the old ETag meets its own result.
    const retried = await store.writeState(next, v1.value);
    expect(retried.ok && retried.value.serial).toBe(2);
  });

  test('a state of another lineage than this work directory saw is refused', async () => {
    const objects = fakeCasObjects();
    const memo = memoryMemo();
    const store = storeOn(objects, memo);
    const s0 = await read(store);
    expect((await store.writeState(s0.state, s0.version)).ok).toBe(true);
    // Someone deletes the state; another runner creates it again (a new lineage).
    objects.objects.delete(STATE_KEY);
    const other = storeOn(objects);
    const fresh = await read(other);
    expect((await other.writeState(fresh.state, fresh.version)).ok).toBe(true);
    const r = await store.readState(recipe);
    expect(!r.ok && r.error).toEqual({
      reason: 'state-lineage',
      url: `s3://bucket/${STATE_KEY}`,
      found: fresh.version.lineage,
      seen: s0.version.lineage,
    });
  });

  test('a state older than this work directory saw is refused', async () => {
    const objects = fakeCasObjects();
    const memo = memoryMemo();
    const store = storeOn(objects, memo);
    const s0 = await read(store);
    const v1 = await store.writeState(s0.state, s0.version);
    if (!v1.ok) throw new Error('write failed');
    const old = objects.objects.get(STATE_KEY)?.body ?? '';
    expect((await store.writeState(s0.state, v1.value)).ok).toBe(true);
    // An old copy is put back (a restore, a stale replica).
    objects.objects.set(STATE_KEY, { body: old, etag: '"restored"' });
    const r = await store.readState(recipe);
    expect(!r.ok && r.error).toMatchObject({ reason: 'state-serial', found: 1, seen: 2 });
  });

  test("another recipe's state is refused", async () => {
    const objects = fakeCasObjects();
    const doc = { ...emptyState({ name: 'other', path: '/x.yaml' }), lineage: 'l', serial: 3 };
    objects.objects.set(STATE_KEY, { body: JSON.stringify(doc), etag: '"e"' });
    const r = await storeOn(objects).readState(recipe);
    expect(!r.ok && r.error).toMatchObject({
      reason: 'state-recipe',
      found: 'other',
      expected: 'demo',
    });
  });

  test('a state without lineage, or of another format version, is refused', async () => {
    const objects = fakeCasObjects();
    objects.objects.set(STATE_KEY, { body: JSON.stringify(emptyState(recipe)), etag: '"e"' });
    const r = await storeOn(objects).readState(recipe);
    expect(!r.ok && r.error.reason).toBe('state-invalid');
    objects.objects.set(STATE_KEY, {
      body: JSON.stringify({ ...emptyState(recipe), formatVersion: 99, lineage: 'l', serial: 1 }),
      etag: '"e"',
    });
    const v = await storeOn(objects).readState(recipe);
    expect(!v.ok && v.error).toMatchObject({ reason: 'state-invalid' });
  });

  test('an unreachable store is a failure, not an empty state', async () => {
    const objects = fakeCasObjects();
    objects.failNext('get');
    const r = await storeOn(objects).readState(recipe);
    expect(!r.ok && r.error.reason).toBe('store-unreachable');
  });
});
