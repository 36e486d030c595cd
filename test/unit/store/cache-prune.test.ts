// The prune decision, pure: which entries are old, which blobs nothing names any more, and
// that a blob an upload in flight wrote (young), one a recipe's state names, or one an
// entry this version cannot read names, is never chosen. Also the key classification.
import { describe, expect, test } from '@jest/globals';
import { parseS3Url, type S3Url } from '../../../src/core/s3-url.js';
import { outputDigestOf } from '../../../src/run/checkpoint.js';
import type { ListedObject } from '../../../src/cloud/object-listing.js';
import {
  CACHE_ENTRY_FORMAT,
  cacheBlobKey,
  cacheEntryKey,
  type CacheEntry,
} from '../../../src/store/cache-layout.js';
import {
  classifyCacheObjects,
  decidePrune,
  digestsIn,
  orphanBlobs,
  summarizeEntry,
  type CacheInventory,
  type ReadEntry,
  type ReadState,
} from '../../../src/store/cache-prune.js';

function url(text: string): S3Url {
  const parsed = parseS3Url(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

const STORE = url('s3://bkt/ci');
const CUTOFF = new Date('2026-10-31T12:00:00Z');
const OLD = '2026-10-01T00:00:00.000Z';
const YOUNG = '2026-11-29T00:00:00.000Z';
const hex = (c: string): string => c.repeat(64);

const object = (key: string, lastModified: string, size = 100): ListedObject => ({
  key,
  size,
  lastModified: new Date(lastModified),
});

/** An entry of fingerprint `fp` naming blobs `shas`, created at `created`. */
function entry(fp: string, created: string, shas: readonly string[]): ReadEntry {
  const artifacts = Object.fromEntries(
    shas.map((sha, i) => [`a${String(i)}`, { file: `f${String(i)}.img`, sha256: sha, size: 10 }]),
  );
  const e: CacheEntry = {
    format: CACHE_ENTRY_FORMAT,
    kind: 'install-os',
    fingerprint: fp,
    recipe: 'debian-minimal',
    created,
    artifacts,
    values: {},
    outputDigest: outputDigestOf(artifacts, {}),
  };
  return { object: object(cacheEntryKey(STORE, fp), created), fingerprint: fp, entry: e };
}

const blob = (sha: string, lastModified: string, size = 1000): [string, ListedObject] => [
  sha,
  object(cacheBlobKey(STORE, sha), lastModified, size),
];

function inventory(parts: {
  entries?: ReadEntry[];
  blobs?: [string, ListedObject][];
  states?: ReadState[];
}): CacheInventory {
  return {
    entries: parts.entries ?? [],
    blobs: new Map(parts.blobs ?? []),
    states: parts.states ?? [],
    other: [],
  };
}

const keys = (objects: readonly { key: string }[]): string[] => objects.map((o) => o.key).sort();

describe('decidePrune', () => {
  test('removes old entries, then the old blobs only they named', () => {
    const inv = inventory({
      entries: [entry(hex('1'), OLD, [hex('a'), hex('b')]), entry(hex('2'), YOUNG, [hex('b')])],
      blobs: [blob(hex('a'), OLD), blob(hex('b'), OLD)],
    });
    const d = decidePrune(inv, CUTOFF);
    expect(d.entries.map((e) => e.fingerprint)).toEqual([hex('1')]);
    // b is still named by the young entry.
    expect(keys(d.blobs)).toEqual([cacheBlobKey(STORE, hex('a'))]);
    expect(d.youngOrphans).toEqual([]);
  });

  test('keeps an unnamed blob written after the cutoff: an upload whose entry is not written yet', () => {
    const inv = inventory({ blobs: [blob(hex('a'), YOUNG), blob(hex('c'), OLD)] });
    const d = decidePrune(inv, CUTOFF);
    expect(keys(d.blobs)).toEqual([cacheBlobKey(STORE, hex('c'))]);
    expect(keys(d.youngOrphans)).toEqual([cacheBlobKey(STORE, hex('a'))]);
  });

  test("keeps an old blob that only a recipe's state names, even after its entry goes", () => {
    const inv = inventory({
      entries: [entry(hex('1'), OLD, [hex('a')])],
      blobs: [blob(hex('a'), OLD)],
      states: [
        {
          object: object('ci/web/state.json', OLD),
          digests: digestsIn(
            JSON.stringify({ steps: { x: { artifacts: { d: { sha256: hex('a') } } } } }),
          ),
        },
      ],
    });
    const d = decidePrune(inv, CUTOFF);
    expect(d.entries).toHaveLength(1);
    expect(d.blobs).toEqual([]);
  });

  test('an entry that does not parse: removed when its object is old, and while it stays its digests protect blobs', () => {
    const unreadable = (fp: string, at: string): ReadEntry => ({
      object: object(cacheEntryKey(STORE, fp), at),
      fingerprint: fp,
      problem: 'has format 99, not 2',
      digests: digestsIn(`{"format":99,"blobs":["${hex('a')}"]}`),
    });
    const young = decidePrune(
      inventory({ entries: [unreadable(hex('9'), YOUNG)], blobs: [blob(hex('a'), OLD)] }),
      CUTOFF,
    );
    expect(young.entries).toEqual([]);
    expect(young.blobs).toEqual([]);
    const old = decidePrune(
      inventory({ entries: [unreadable(hex('9'), OLD)], blobs: [blob(hex('a'), OLD)] }),
      CUTOFF,
    );
    expect(old.entries).toHaveLength(1);
    expect(keys(old.blobs)).toEqual([cacheBlobKey(STORE, hex('a'))]);
  });

  test('the cutoff is strict: made exactly at the cutoff stays', () => {
    const at = CUTOFF.toISOString();
    const d = decidePrune(
      inventory({ entries: [entry(hex('1'), at, [hex('a')])], blobs: [blob(hex('b'), at)] }),
      CUTOFF,
    );
    expect(d.entries).toEqual([]);
    expect(d.blobs).toEqual([]);
  });

  test('orphanBlobs: blobs no entry and no state names', () => {
    const inv = inventory({
      entries: [entry(hex('1'), YOUNG, [hex('a')])],
      blobs: [blob(hex('a'), OLD), blob(hex('b'), OLD), blob(hex('c'), OLD)],
      states: [{ object: object('ci/web/state.json', OLD), digests: new Set([hex('c')]) }],
    });
    expect(keys(orphanBlobs(inv))).toEqual([cacheBlobKey(STORE, hex('b'))]);
    expect(summarizeEntry(entry(hex('1'), YOUNG, [hex('a'), hex('d')]), inv.blobs)).toMatchObject({
      storedBytes: 1000,
      missing: [hex('d')],
    });
  });
});

describe('classifyCacheObjects', () => {
  test("sorts a listing of the prefix into entries, blobs, the recipes' states and the rest", () => {
    const sorted = classifyCacheObjects(STORE, [
      object(cacheEntryKey(STORE, hex('1')), OLD),
      object(cacheBlobKey(STORE, hex('a')), OLD),
      object('ci/debian-minimal/state.json', OLD),
      object('ci/debian-minimal/state.json.lock', OLD),
      object('ci/_cache/blobs/sha256/nothex.gz', OLD),
      object('ci/other/deeper/state.json', OLD),
    ]);
    expect(sorted.entries.map((e) => e.fingerprint)).toEqual([hex('1')]);
    expect([...sorted.blobs.keys()]).toEqual([hex('a')]);
    expect(keys(sorted.states)).toEqual(['ci/debian-minimal/state.json']);
    expect(keys(sorted.other)).toEqual(['ci/_cache/blobs/sha256/nothex.gz']);
  });

  test('at the bucket root', () => {
    const root = url('s3://bkt');
    const sorted = classifyCacheObjects(root, [
      object(cacheBlobKey(root, hex('a')), OLD),
      object('web/state.json', OLD),
    ]);
    expect([...sorted.blobs.keys()]).toEqual([hex('a')]);
    expect(keys(sorted.states)).toEqual(['web/state.json']);
  });
});

describe('digestsIn', () => {
  test('finds whole 64-digit hex runs only', () => {
    const found = digestsIn(`"${hex('a')}" ${'b'.repeat(65)} ${'c'.repeat(63)} x${hex('d')}`);
    expect([...found].sort()).toEqual([hex('a'), hex('d')]);
  });
});
