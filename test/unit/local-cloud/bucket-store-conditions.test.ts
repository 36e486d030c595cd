// BucketStore's conditional writes: the condition is checked under the key's lock at the
// moment the object would be replaced, so of many concurrent creates of one key exactly
// one wins, and a refused write leaves the current object and no stray files.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BucketStore } from '../../../src/local-cloud/bucket-store.js';

let root: string;
let store: BucketStore;
const base = { owner: 'o', acl: 'private', contentType: 'text/plain' };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'emi-store-cond-'));
  store = await BucketStore.open(root);
  await store.createBucket('bkt', 'o', 'private');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function text(key: string): Promise<string> {
  const read = await store.readAll('bkt', key);
  if (!read.ok) throw new Error(read.error.code);
  return read.value.toString();
}

describe('conditional puts', () => {
  test('eight concurrent If-None-Match creates of one key: exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.put('bkt', 'lock', Readable.from([Buffer.from(`writer ${i}`)]), {
          ...base,
          condition: { kind: 'absent' },
        }),
      ),
    );
    const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results)
      if (!r.ok)
        expect(r.error).toEqual({ code: 'PreconditionFailed', condition: 'If-None-Match' });
    expect(await text('lock')).toBe(`writer ${String(winners[0])}`);
    expect(await readdir(join(root, 'bkt', 'tmp'))).toEqual([]);
    expect((await readdir(join(root, 'bkt', 'objects'))).sort()).toHaveLength(2);
  });

  test('If-Match: compare-and-swap on the ETag; a stale ETag and a missing key are refused', async () => {
    const first = await store.put('bkt', 'state', Readable.from([Buffer.from('v1')]), base);
    if (!first.ok) throw new Error('put failed');
    const swaps = await Promise.all(
      ['v2a', 'v2b'].map((body) =>
        store.put('bkt', 'state', Readable.from([Buffer.from(body)]), {
          ...base,
          condition: { kind: 'etag', etags: [first.value.etag] },
        }),
      ),
    );
    expect(swaps.filter((r) => r.ok)).toHaveLength(1);
    expect(swaps.find((r) => !r.ok)).toEqual({
      ok: false,
      error: { code: 'PreconditionFailed', condition: 'If-Match' },
    });
    expect(['v2a', 'v2b']).toContain(await text('state'));
    const missing = await store.put('bkt', 'absent', Readable.from([Buffer.from('x')]), {
      ...base,
      condition: { kind: 'etag', etags: [first.value.etag] },
    });
    expect(missing).toEqual({ ok: false, error: { code: 'NoSuchKey' } });
    expect(store.head('bkt', 'absent').ok).toBe(false);
  });
});
