// The step cache of a store, read (one listing of its prefix, then each entry and each
// recipe's state) and pruned (entries, then blobs, through the listing port's batched
// DeleteObjects). What to remove is cache-prune.ts's pure decision; this file only does
// the requests, and looks again just before deleting blobs (see pruneCache).
import { err, ok, type Result } from '../core/result.js';
import type { S3Url } from '../core/s3-url.js';
import type { CloudFailure } from '../cloud/aws-errors.js';
import {
  deleteAllObjects,
  listAllObjects,
  type KeyNotDeleted,
  type ListedObject,
  type ObjectListingPort,
} from '../cloud/object-listing.js';
import { parseCacheEntry } from './cache-layout.js';
import {
  blobsNamedBy,
  classifyCacheObjects,
  digestsIn,
  type CacheInventory,
  type PruneDecision,
  type ReadEntry,
  type ReadState,
} from './cache-prune.js';

/** Reads an object's text; undefined when it is gone (deleted since the listing). */
export type ReadObjectText = (
  key: string,
  signal: AbortSignal,
) => Promise<Result<string | undefined, CloudFailure>>;

export interface CacheIo {
  readonly store: S3Url;
  readonly listing: ObjectListingPort;
  readonly read: ReadObjectText;
  readonly signal: AbortSignal;
}

const rootPrefix = (store: S3Url): string => (store.prefix === '' ? '' : `${store.prefix}/`);

/** Lists the store's prefix and reads every entry and state in it. */
export async function readCacheInventory(
  io: CacheIo,
): Promise<Result<CacheInventory, CloudFailure>> {
  const listed = await listAllObjects(io.listing, rootPrefix(io.store), io.signal);
  if (!listed.ok) return listed;
  return readListed(io, listed.value, () => true);
}

/** Reads the entries and states of a listing for which `fresh(object)` holds. */
async function readListed(
  io: CacheIo,
  objects: readonly ListedObject[],
  fresh: (o: ListedObject) => boolean,
): Promise<Result<CacheInventory, CloudFailure>> {
  const sorted = classifyCacheObjects(io.store, objects);
  const entries: ReadEntry[] = [];
  for (const { object, fingerprint } of sorted.entries) {
    if (!fresh(object)) continue;
    const text = await io.read(object.key, io.signal);
    if (!text.ok) return text;
    if (text.value === undefined) continue;
    const parsed = parseCacheEntry(text.value, object.key, fingerprint);
    entries.push(
      parsed.ok
        ? { object, fingerprint, entry: parsed.value }
        : { object, fingerprint, problem: parsed.error, digests: digestsIn(text.value) },
    );
  }
  const states: ReadState[] = [];
  for (const object of sorted.states) {
    if (!fresh(object)) continue;
    const text = await io.read(object.key, io.signal);
    if (!text.ok) return text;
    if (text.value !== undefined) states.push({ object, digests: digestsIn(text.value) });
  }
  return ok({ entries, blobs: sorted.blobs, states, other: sorted.other });
}

export interface PruneOutcome {
  readonly entriesRemoved: readonly ListedObject[];
  readonly blobsRemoved: readonly ListedObject[];
  /** Blobs the decision chose that an entry or state written meanwhile names: kept. */
  readonly spared: readonly ListedObject[];
  readonly refused: readonly KeyNotDeleted[];
  /** A request that failed as a whole; what is listed above was done before it. */
  readonly failure?: CloudFailure;
}

/**
 * Carries out `decision` (from decidePrune over `inventory`): deletes its entries, then
 * lists the prefix again and reads every entry and state that is new or rewritten since
 * `inventory` was read, and spares the chosen blobs they name (an apply that finished an
 * entry meanwhile), then deletes the remaining blobs.
 */
export async function pruneCache(
  io: CacheIo,
  inventory: CacheInventory,
  decision: PruneDecision,
): Promise<PruneOutcome> {
  const done = (o: Omit<PruneOutcome, 'spared'> & { spared?: readonly ListedObject[] }) => ({
    spared: [],
    ...o,
  });
  const entryKeys = decision.entries.map((e) => e.object.key);
  const removedEntries = await deleteAllObjects(io.listing, entryKeys, io.signal);
  const byKey = new Map(decision.entries.map((e) => [e.object.key, e.object]));
  const entriesRemoved = removedEntries.deleted.flatMap((k) => byKey.get(k) ?? []);
  if (removedEntries.failure)
    return done({
      entriesRemoved,
      blobsRemoved: [],
      refused: removedEntries.refused,
      failure: removedEntries.failure,
    });
  if (decision.blobs.length === 0)
    return done({ entriesRemoved, blobsRemoved: [], refused: removedEntries.refused });
  const again = await rereadNamed(io, inventory);
  if (!again.ok)
    return done({
      entriesRemoved,
      blobsRemoved: [],
      refused: removedEntries.refused,
      failure: again.error,
    });
  const spared = decision.blobs.filter((b) => again.value.has(blobDigest(b.key)));
  const blobs = decision.blobs.filter((b) => !again.value.has(blobDigest(b.key)));
  const removedBlobs = await deleteAllObjects(
    io.listing,
    blobs.map((b) => b.key),
    io.signal,
  );
  const blobByKey = new Map(blobs.map((b) => [b.key, b]));
  return {
    entriesRemoved,
    blobsRemoved: removedBlobs.deleted.flatMap((k) => blobByKey.get(k) ?? []),
    spared,
    refused: [...removedEntries.refused, ...removedBlobs.refused],
    ...(removedBlobs.failure ? { failure: removedBlobs.failure } : {}),
  };
}

/** `…/sha256/<hex>.gz` -> `<hex>`. */
const blobDigest = (key: string): string => /([0-9a-f]{64})\.gz$/.exec(key)?.[1] ?? '';

/** The digests named by entries and states written since `before` was read. */
async function rereadNamed(
  io: CacheIo,
  before: CacheInventory,
): Promise<Result<ReadonlySet<string>, CloudFailure>> {
  const listed = await listAllObjects(io.listing, rootPrefix(io.store), io.signal);
  if (!listed.ok) return listed;
  const seen = new Map<string, number>();
  for (const e of before.entries) seen.set(e.object.key, e.object.lastModified.getTime());
  for (const s of before.states) seen.set(s.object.key, s.object.lastModified.getTime());
  const fresh = (o: ListedObject): boolean => seen.get(o.key) !== o.lastModified.getTime();
  const read = await readListed(io, listed.value, fresh);
  if (!read.ok) return read;
  const named = new Set<string>();
  for (const e of read.value.entries) for (const sha of blobsNamedBy(e)) named.add(sha);
  for (const s of read.value.states) for (const sha of s.digests) named.add(sha);
  return ok(named);
}

/** A read function over a GetObject that fails with `not-found` for a missing key. */
export function textReader(
  get: (key: string, signal: AbortSignal) => Promise<Result<Uint8Array, CloudFailure>>,
): ReadObjectText {
  return async (key, signal) => {
    const r = await get(key, signal);
    if (r.ok) return ok(Buffer.from(r.value).toString('utf8'));
    return r.error.reason === 'not-found' ? ok(undefined) : err(r.error);
  };
}
