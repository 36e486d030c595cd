// The step cache's objects below a store's S3 prefix, and the entry that names a step's
// outputs. Keys: `<prefix>/_cache/blobs/sha256/<hex>.gz` (a file's content, gzipped
// sparse: cloud/blob-transfer.ts) and `<prefix>/_cache/steps/<fingerprint>.json` (one entry
// per step fingerprint, written after all of its blobs are whole, so an entry never names a
// half-uploaded blob). Every recipe whose state lives under the same prefix shares them:
// recipe names start with a letter or digit, so `_cache` is never a recipe's directory.
// An entry read from the bucket is untrusted: parseCacheEntry checks every field.
import type { S3Url } from '../core/s3-url.js';
import { err, ok, type Result } from '../core/result.js';
import type { StepRecord } from '../run/state.js';
import { outputDigestOf } from '../run/checkpoint.js';
import { blobKey } from '../cloud/blob-transfer.js';

/**
 * Bumped when an entry's meaning changes; other versions are ignored (a cache miss).
 * 2: a qcow2 disk names its backing file relative to its own directory (format 1's named it
 * by the absolute path on the runner that made it, unusable on another runner).
 */
export const CACHE_ENTRY_FORMAT = 2;

/** `<prefix>/_cache/` (`_cache/` at the bucket's root). */
export function cachePrefix(store: S3Url): string {
  return store.prefix === '' ? '_cache/' : `${store.prefix}/_cache/`;
}

/** The entry of a step fingerprint. */
export function cacheEntryKey(store: S3Url, fingerprint: string): string {
  return `${cachePrefix(store)}steps/${fingerprint}.json`;
}

/** The blob holding a content of digest `sha256`. */
export function cacheBlobKey(store: S3Url, sha256: string): string {
  return blobKey(cachePrefix(store), sha256);
}

/** One file of a cached step: its name in the step's directory and its content. */
export interface CachedArtifact {
  /** A plain file name (no directory part). */
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
}

/** What a step with this fingerprint produced, as any runner can restore it. */
export interface CacheEntry {
  readonly format: typeof CACHE_ENTRY_FORMAT;
  readonly kind: string;
  readonly fingerprint: string;
  /** The recipe whose run made it (for `cache ls`; any recipe may use it). */
  readonly recipe: string;
  /** ISO time it was written. */
  readonly created: string;
  readonly artifacts: Readonly<Record<string, CachedArtifact>>;
  readonly values: StepRecord['values'];
  readonly outputDigest: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;

/** The entry as written: canonical enough to compare, one line of JSON. */
export function serializeCacheEntry(entry: CacheEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads an entry fetched from `key`, whose fingerprint must be `fingerprint`. Refuses, with
 * what is wrong, anything that is not an entry this version wrote: another format, a file
 * name with a directory part, a digest or size that is not one, a fingerprint that is not
 * the key's (an entry copied under another key would restore the wrong step), an output
 * digest that is not that of its artifacts and values.
 */
export function parseCacheEntry(
  text: string,
  key: string,
  fingerprint: string,
): Result<CacheEntry, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return err(`${key} is not JSON`);
  }
  if (!isRecord(doc)) return err(`${key} is not a cache entry (not an object)`);
  if (doc.format !== CACHE_ENTRY_FORMAT)
    return err(`${key} has format ${JSON.stringify(doc.format)}, not ${CACHE_ENTRY_FORMAT}`);
  if (doc.fingerprint !== fingerprint)
    return err(`${key} names fingerprint ${JSON.stringify(doc.fingerprint)}, not its own key's`);
  const { kind, recipe, created, outputDigest } = doc;
  if (typeof kind !== 'string' || !NAME.test(kind))
    return err(`${key}: kind is not a step kind's name`);
  if (typeof recipe !== 'string') return err(`${key}: recipe is not a string`);
  if (typeof created !== 'string' || Number.isNaN(Date.parse(created)))
    return err(`${key}: created is not a time`);
  if (typeof outputDigest !== 'string' || !HEX64.test(outputDigest))
    return err(`${key}: outputDigest is not a digest`);
  if (!isRecord(doc.values)) return err(`${key}: values is not an object`);
  if (!isRecord(doc.artifacts)) return err(`${key}: artifacts is not an object`);
  const artifacts: Record<string, CachedArtifact> = {};
  for (const [name, a] of Object.entries(doc.artifacts)) {
    if (!NAME.test(name)) return err(`${key}: artifact name ${JSON.stringify(name)} is not one`);
    if (!isRecord(a)) return err(`${key}: artifact ${name} is not an object`);
    const { file, sha256, size } = a;
    if (typeof file !== 'string' || !FILE.test(file))
      return err(
        `${key}: artifact ${name}'s file ${JSON.stringify(file)} is not a plain file name`,
      );
    if (typeof sha256 !== 'string' || !HEX64.test(sha256))
      return err(`${key}: artifact ${name}'s sha256 is not a digest`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      return err(`${key}: artifact ${name}'s size is not a byte count`);
    artifacts[name] = { file, sha256, size };
  }
  const values = jsonRecord(doc.values);
  if (outputDigestOf(artifacts, values) !== outputDigest)
    return err(`${key}: outputDigest is not the digest of its artifacts and values`);
  return ok({
    format: CACHE_ENTRY_FORMAT,
    kind,
    fingerprint,
    recipe,
    created,
    artifacts,
    values,
    outputDigest,
  });
}

/** A parsed JSON object's members: JSON.parse makes nothing but JSON values. */
function jsonRecord(value: Record<string, unknown>): StepRecord['values'] {
  return value as StepRecord['values'];
}
