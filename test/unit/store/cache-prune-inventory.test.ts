// pruneCache over an in-memory bucket: entries go first, then the blobs; a blob the
// decision chose is spared when an entry (or state) written while prune ran names it (an
// apply that reused the blob and finished its entry meanwhile); an unreadable entry keeps
// what its text names.
import { describe, expect, test } from '@jest/globals';
import { ok } from '../../../src/core/result.js';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { outputDigestOf } from '../../../src/run/checkpoint.js';
import type { ObjectListingPort } from '../../../src/cloud/object-listing.js';
import {
  CACHE_ENTRY_FORMAT,
  cacheBlobKey,
  cacheEntryKey,
  serializeCacheEntry,
} from '../../../src/store/cache-layout.js';
import { decidePrune } from '../../../src/store/cache-prune.js';
import {
  pruneCache,
  readCacheInventory,
  type CacheIo,
} from '../../../src/store/cache-prune-inventory.js';

const parsed = parseS3Url('s3://bkt/ci');
if (!parsed.ok) throw new Error(parsed.error);
const store = parsed.value;
const signal = new AbortController().signal;
const OLD = new Date('2026-01-01T00:00:00Z');
const CUTOFF = new Date('2026-06-01T00:00:00Z');
const hex = (c: string): string => c.repeat(64);

function entryText(fp: string, sha: string): string {
  const artifacts = { disk: { file: 'disk.img', sha256: sha, size: 1 } };
  return serializeCacheEntry({
    format: CACHE_ENTRY_FORMAT,
    kind: 'install-os',
    fingerprint: fp,
    recipe: 'r',
    created: OLD.toISOString(),
    artifacts,
    values: {},
    outputDigest: outputDigestOf(artifacts, {}),
  });
}

/** A bucket in memory; `onDelete` runs after each DeleteObjects (another runner's turn). */
function memoryBucket(onDelete?: (objects: Map<string, { body: string; at: Date }>) => void) {
  const objects = new Map<string, { body: string; at: Date }>();
  const deletes: string[][] = [];
  const listing: ObjectListingPort = {
    where: 'memory',
    listPage: (r) =>
      Promise.resolve(
        ok({
          objects: [...objects]
            .filter(([k]) => k.startsWith(r.prefix))
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, o]) => ({ key, size: o.body.length, lastModified: o.at })),
        }),
      ),
    deleteBatch: (keys) => {
      deletes.push([...keys]);
      for (const k of keys) objects.delete(k);
      onDelete?.(objects);
      return Promise.resolve(ok([]));
    },
  };
  const io: CacheIo = {
    store,
    listing,
    read: (key) => Promise.resolve(ok(objects.get(key)?.body)),
    signal,
  };
  return { objects, deletes, io };
}

describe('pruneCache', () => {
  test('deletes entries, then blobs; spares a blob an entry written meanwhile names', async () => {
    let turn = 0;
    const bucket = memoryBucket((objects) => {
      // After the entries are deleted, an apply finishes an entry reusing blob b.
      if (turn++ === 0)
        objects.set(cacheEntryKey(store, hex('2')), {
          body: entryText(hex('2'), hex('b')),
          at: new Date(),
        });
    });
    bucket.objects.set(cacheEntryKey(store, hex('1')), {
      body: entryText(hex('1'), hex('a')),
      at: OLD,
    });
    bucket.objects.set(cacheBlobKey(store, hex('a')), { body: 'A', at: OLD });
    bucket.objects.set(cacheBlobKey(store, hex('b')), { body: 'B', at: OLD });
    const inventory = await readCacheInventory(bucket.io);
    if (!inventory.ok) throw new Error('listing failed');
    const decision = decidePrune(inventory.value, CUTOFF);
    expect(decision.blobs).toHaveLength(2);
    const outcome = await pruneCache(bucket.io, inventory.value, decision);
    expect(bucket.deletes).toEqual([
      [cacheEntryKey(store, hex('1'))],
      [cacheBlobKey(store, hex('a'))],
    ]);
    expect(outcome.spared.map((b) => b.key)).toEqual([cacheBlobKey(store, hex('b'))]);
    expect(outcome.blobsRemoved.map((b) => b.key)).toEqual([cacheBlobKey(store, hex('a'))]);
    expect([...bucket.objects.keys()].sort()).toEqual(
      [cacheBlobKey(store, hex('b')), cacheEntryKey(store, hex('2'))].sort(),
    );
  });

  test('an entry that does not parse is read as unreadable, and keeps the blobs its text names', async () => {
    const bucket = memoryBucket();
    bucket.objects.set(cacheEntryKey(store, hex('3')), {
      body: `{"format":99,"blobs":["${hex('a')}"]}`,
      at: new Date(),
    });
    bucket.objects.set(cacheBlobKey(store, hex('a')), { body: 'A', at: OLD });
    const inventory = await readCacheInventory(bucket.io);
    if (!inventory.ok) throw new Error('listing failed');
    expect(inventory.value.entries[0]).toMatchObject({
      problem: expect.stringMatching(/format 99/),
    });
    expect(decidePrune(inventory.value, CUTOFF).blobs).toEqual([]);
  });
});
