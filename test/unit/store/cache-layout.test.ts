// The step cache's keys and entries: keys below the store's prefix beside the recipes'
// directories, and an entry read from the bucket is refused unless every field is what
// this version writes (a forged or copied entry must never restore a step).
import { describe, expect, test } from '@jest/globals';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { outputDigestOf } from '../../../src/run/checkpoint.js';
import {
  CACHE_ENTRY_FORMAT,
  cacheBlobKey,
  cacheEntryKey,
  parseCacheEntry,
  serializeCacheEntry,
  type CacheEntry,
} from '../../../src/store/cache-layout.js';

const FP = 'a'.repeat(64);
const SHA = 'b'.repeat(64);

function url(text: string) {
  const parsed = parseS3Url(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function entry(): CacheEntry {
  const artifacts = { disk: { file: 'disk.img', sha256: SHA, size: 1024 } };
  const values = { sizeBytes: 1024 };
  return {
    format: CACHE_ENTRY_FORMAT,
    kind: 'install-os',
    fingerprint: FP,
    recipe: 'debian-minimal',
    created: '2026-11-30T12:00:00.000Z',
    artifacts,
    values,
    outputDigest: outputDigestOf(artifacts, values),
  };
}

const parse = (doc: unknown) => parseCacheEntry(JSON.stringify(doc), 'k', FP);

describe('step cache keys', () => {
  test('sit under _cache/ beside the recipes, at the root or below a prefix', () => {
    expect(cacheEntryKey(url('s3://bkt/team/emi'), FP)).toBe(`team/emi/_cache/steps/${FP}.json`);
    expect(cacheBlobKey(url('s3://bkt/team/emi'), SHA)).toBe(
      `team/emi/_cache/blobs/sha256/${SHA}.gz`,
    );
    expect(cacheEntryKey(url('s3://bkt'), FP)).toBe(`_cache/steps/${FP}.json`);
  });
});

describe('a cache entry read from the bucket', () => {
  test('round-trips', () => {
    const e = entry();
    const back = parseCacheEntry(serializeCacheEntry(e), 'k', FP);
    expect(back).toEqual({ ok: true, value: e });
  });

  test.each([
    ['not JSON', '{', /is not JSON/],
    ['another format', { ...entry(), format: 1 }, /format 1, not 2/],
    ['another fingerprint', { ...entry(), fingerprint: 'c'.repeat(64) }, /not its own key's/],
    [
      'a file with a directory part',
      { ...entry(), artifacts: { disk: { file: '../../etc/passwd', sha256: SHA, size: 1 } } },
      /not a plain file name/,
    ],
    [
      'an absolute file',
      { ...entry(), artifacts: { disk: { file: '/etc/passwd', sha256: SHA, size: 1 } } },
      /not a plain file name/,
    ],
    [
      'a digest that is not one',
      { ...entry(), artifacts: { disk: { file: 'd', sha256: 'x', size: 1 } } },
      /sha256 is not a digest/,
    ],
    [
      'a negative size',
      { ...entry(), artifacts: { disk: { file: 'd', sha256: SHA, size: -1 } } },
      /not a byte count/,
    ],
    [
      'values changed after the digest',
      { ...entry(), values: { sizeBytes: 2048 } },
      /outputDigest is not the digest/,
    ],
    ['no created time', { ...entry(), created: 'yesterday' }, /created is not a time/],
  ])('is refused when it has %s', (_what, doc, message) => {
    const result = typeof doc === 'string' ? parseCacheEntry(doc, 'k', FP) : parse(doc);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});
