// PURE: what the step cache below a store's prefix holds (entries, blobs, the recipes'
// states that name blobs) and what `cache prune` removes. No I/O: the listing and the
// documents read come in (cache-prune-inventory.ts reads them), decisions go out.
//
//   entries created before the cutoff        -> removed (one that does not parse: by its
//                                               object's LastModified)
//   blobs no remaining entry and no state    -> removed, if their own LastModified is
//   names                                       before the cutoff too (an upload in flight,
//                                               whose entry is not written yet, is young)
import type { S3Url } from '../core/s3-url.js';
import type { ListedObject } from '../cloud/object-listing.js';
import { cachePrefix, type CacheEntry } from './cache-layout.js';

/** The objects under a store's prefix, sorted by what they are. */
export interface CacheObjects {
  /** `_cache/steps/<fingerprint>.json`, with the key's fingerprint. */
  readonly entries: readonly { readonly object: ListedObject; readonly fingerprint: string }[];
  /** `_cache/blobs/sha256/<hex>.gz`, by digest. */
  readonly blobs: ReadonlyMap<string, ListedObject>;
  /** `<recipe>/state.json`. */
  readonly states: readonly ListedObject[];
  /** Anything else below `_cache/` (left alone). */
  readonly other: readonly ListedObject[];
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sorts a listing of the store's prefix into entries, blobs, states and the rest. */
export function classifyCacheObjects(store: S3Url, objects: readonly ListedObject[]): CacheObjects {
  const cache = cachePrefix(store);
  const root = store.prefix === '' ? '' : `${store.prefix}/`;
  const entry = new RegExp(`^${escape(cache)}steps/([^/]+)\\.json$`);
  const blob = new RegExp(`^${escape(cache)}blobs/sha256/([0-9a-f]{64})\\.gz$`);
  const state = new RegExp(`^${escape(root)}[A-Za-z0-9][^/]*/state\\.json$`);
  const entries: { object: ListedObject; fingerprint: string }[] = [];
  const blobs = new Map<string, ListedObject>();
  const states: ListedObject[] = [];
  const other: ListedObject[] = [];
  for (const object of objects) {
    const e = entry.exec(object.key);
    const b = blob.exec(object.key);
    if (e?.[1] !== undefined) entries.push({ object, fingerprint: e[1] });
    else if (b?.[1] !== undefined) blobs.set(b[1], object);
    else if (state.test(object.key)) states.push(object);
    else if (object.key.startsWith(cache)) other.push(object);
  }
  return { entries, blobs, states, other };
}

/** An entry as read: parsed, or why not (with every digest its text holds, to be safe). */
export type ReadEntry =
  | {
      readonly object: ListedObject;
      readonly fingerprint: string;
      readonly entry: CacheEntry;
    }
  | {
      readonly object: ListedObject;
      readonly fingerprint: string;
      readonly problem: string;
      readonly digests: ReadonlySet<string>;
    };

/** A recipe's state as read: the digests it holds (each could name a blob). */
export interface ReadState {
  readonly object: ListedObject;
  readonly digests: ReadonlySet<string>;
}

export interface CacheInventory {
  readonly entries: readonly ReadEntry[];
  readonly blobs: ReadonlyMap<string, ListedObject>;
  readonly states: readonly ReadState[];
  readonly other: readonly ListedObject[];
}

/**
 * Every SHA-256 hex digest in a document's text. A state (or an entry this version cannot
 * read, say a newer format's) may name a blob by any of them: over-counting keeps a blob
 * too many, never deletes one in use.
 */
export function digestsIn(text: string): ReadonlySet<string> {
  return new Set(text.match(/(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g) ?? []);
}

/** The blobs an entry names (parsed: its artifacts; unparsed: every digest in it). */
export function blobsNamedBy(entry: ReadEntry): ReadonlySet<string> {
  if ('problem' in entry) return entry.digests;
  return new Set(Object.values(entry.entry.artifacts).map((a) => a.sha256));
}

/** One entry's line in `cache ls`: its blobs' stored bytes, and the ones that are missing. */
export interface EntrySummary {
  readonly read: ReadEntry;
  /** Stored (compressed) bytes of its blobs that exist. */
  readonly storedBytes: number;
  /** Digests it names whose blob is not in the store (an entry that cannot be restored). */
  readonly missing: readonly string[];
}

export function summarizeEntry(
  read: ReadEntry,
  blobs: ReadonlyMap<string, ListedObject>,
): EntrySummary {
  if ('problem' in read) return { read, storedBytes: 0, missing: [] };
  let storedBytes = 0;
  const missing: string[] = [];
  for (const sha of blobsNamedBy(read)) {
    const blob = blobs.get(sha);
    if (blob) storedBytes += blob.size;
    else missing.push(sha);
  }
  return { read, storedBytes, missing };
}

/** Blobs that no entry and no state names. */
export function orphanBlobs(inventory: CacheInventory): ListedObject[] {
  const named = namedDigests(inventory.entries, inventory.states);
  return [...inventory.blobs.entries()].filter(([sha]) => !named.has(sha)).map(([, o]) => o);
}

function namedDigests(entries: readonly ReadEntry[], states: readonly ReadState[]): Set<string> {
  const named = new Set<string>();
  for (const e of entries) for (const sha of blobsNamedBy(e)) named.add(sha);
  for (const s of states) for (const sha of s.digests) named.add(sha);
  return named;
}

/** When an entry was made: its `created`, or, unparsed, its object's LastModified. */
export function entryTime(read: ReadEntry): Date {
  return 'problem' in read ? read.object.lastModified : new Date(read.entry.created);
}

export interface PruneDecision {
  /** Entries made before the cutoff. */
  readonly entries: readonly ReadEntry[];
  /** Blobs named by no remaining entry or state, written before the cutoff. */
  readonly blobs: readonly ListedObject[];
  /** Unnamed blobs kept because they were written after the cutoff (an upload may be on). */
  readonly youngOrphans: readonly ListedObject[];
}

/**
 * What prune removes at `cutoff`: entries made before it, then the blobs that no
 * remaining entry and no state names and whose own LastModified is before it too. Blob
 * times are the server's; entry times are the writer's (`created`).
 */
export function decidePrune(inventory: CacheInventory, cutoff: Date): PruneDecision {
  const old = (t: Date): boolean => t.getTime() < cutoff.getTime();
  const entries = inventory.entries.filter((e) => old(entryTime(e)));
  const kept = inventory.entries.filter((e) => !old(entryTime(e)));
  const named = namedDigests(kept, inventory.states);
  const blobs: ListedObject[] = [];
  const youngOrphans: ListedObject[] = [];
  for (const [sha, object] of inventory.blobs) {
    if (named.has(sha)) continue;
    (old(object.lastModified) ? blobs : youngOrphans).push(object);
  }
  return { entries, blobs, youngOrphans };
}
