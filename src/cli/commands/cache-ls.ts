// `emi-recipe cache ls [RECIPE] [--store S3-URL] [--json]`: the step cache of a shared
// store: one line per entry (fingerprint, kind, recipe, created, age, stored bytes of its
// blobs), entries that do not parse, the blobs no entry names, and totals. Reads only.
import type { ListedObject } from '../../cloud/object-listing.js';
import type { CliDeps } from '../deps.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { readCacheInventory } from '../../store/cache-prune-inventory.js';
import {
  blobsNamedBy,
  summarizeEntry,
  type CacheInventory,
  type ReadState,
} from '../../store/cache-prune.js';
import { cacheCloudFailure, openCache, type CacheTargetFlags } from './cache-open.js';
import { blobLine, count, ENTRY_HEADER, entryLine, formatSize, sumSizes } from './cache-text.js';

export async function runCacheLs(
  recipeFile: string | undefined,
  flags: CacheTargetFlags & { readonly json: boolean },
  deps: CliDeps,
): Promise<ExitCode> {
  const opened = await openCache(recipeFile, flags, deps);
  if (!opened.cache) return opened.exit;
  const { cache } = opened;
  try {
    const read = await readCacheInventory(cache.io);
    if (!read.ok) return cacheCloudFailure(deps, cache.label, read.error);
    const listing = cacheListing(read.value);
    const now = new Date();
    if (flags.json) {
      deps.terminal.out(`${JSON.stringify(listingJson(cache.io.store.url, listing), null, 2)}\n`);
      return EXIT.ok;
    }
    deps.terminal.out(printListing(cache.label, listing, now));
    return EXIT.ok;
  } finally {
    await cache.close();
  }
}

/** What ls shows, computed from an inventory. */
export interface CacheListing {
  readonly inventory: CacheInventory;
  readonly entries: readonly ReturnType<typeof summarizeEntry>[];
  /** Blobs no entry names, with whether a recipe's state names them. */
  readonly orphans: readonly {
    readonly blob: ListedObject;
    readonly sha256: string;
    readonly namedByState: boolean;
  }[];
}

export function cacheListing(inventory: CacheInventory): CacheListing {
  const entries = [...inventory.entries]
    .map((e) => summarizeEntry(e, inventory.blobs))
    .sort((a, b) => a.read.object.key.localeCompare(b.read.object.key));
  const named = new Set<string>();
  for (const e of inventory.entries) for (const sha of blobsNamedBy(e)) named.add(sha);
  const byState = (sha: string, states: readonly ReadState[]): boolean =>
    states.some((s) => s.digests.has(sha));
  const orphans = [...inventory.blobs.entries()]
    .filter(([sha]) => !named.has(sha))
    .map(([sha256, blob]) => ({ blob, sha256, namedByState: byState(sha256, inventory.states) }))
    .sort((a, b) => a.sha256.localeCompare(b.sha256));
  return { inventory, entries, orphans };
}

function printListing(label: string, listing: CacheListing, now: Date): string {
  const { inventory, entries, orphans } = listing;
  const lines: string[] = [`Step cache of ${label}`];
  if (entries.length === 0) lines.push('No cache entries.');
  else {
    lines.push('', ENTRY_HEADER);
    for (const e of entries) {
      const extra =
        'problem' in e.read
          ? `unreadable: ${e.read.problem}`
          : `${formatSize(e.storedBytes)}${e.missing.length > 0 ? `  (${count(e.missing.length, 'blob')} missing: cannot be restored)` : ''}`;
      lines.push(entryLine(e.read, now, extra));
    }
  }
  if (orphans.length > 0) {
    lines.push('', "Blobs no entry names (an interrupted upload, or kept for a recipe's state):");
    for (const o of orphans)
      lines.push(
        `  ${blobLine(o.blob, now)}${o.namedByState ? "  (a recipe's state names it)" : ''}`,
      );
  }
  const blobs = [...inventory.blobs.values()];
  const unreadable = entries.filter((e) => 'problem' in e.read).length;
  lines.push(
    '',
    `${count(entries.length, 'entry', 'entries')}${unreadable > 0 ? ` (${String(unreadable)} unreadable)` : ''}, ` +
      `${count(blobs.length, 'blob')}, ${formatSize(sumSizes(blobs) + sumSizes(entries.map((e) => e.read.object)))} stored; ` +
      `${count(orphans.length, 'blob')} no entry names (${formatSize(sumSizes(orphans.map((o) => o.blob)))}).`,
  );
  if (inventory.other.length > 0)
    lines.push(`${count(inventory.other.length, 'other object')} below _cache/ (left alone).`);
  return `${lines.join('\n')}\n`;
}

/** `cache ls --json` (version 1; fields are only ever added). */
function listingJson(url: string, listing: CacheListing): unknown {
  const { inventory, entries, orphans } = listing;
  const blobs = [...inventory.blobs.values()];
  return {
    version: 1,
    store: url,
    entries: entries.map((e) =>
      'problem' in e.read
        ? {
            key: e.read.object.key,
            fingerprint: e.read.fingerprint,
            unreadable: e.read.problem,
            lastModified: e.read.object.lastModified.toISOString(),
            size: e.read.object.size,
          }
        : {
            key: e.read.object.key,
            fingerprint: e.read.fingerprint,
            kind: e.read.entry.kind,
            recipe: e.read.entry.recipe,
            created: e.read.entry.created,
            artifacts: Object.keys(e.read.entry.artifacts).length,
            storedBytes: e.storedBytes,
            missingBlobs: e.missing,
          },
    ),
    orphans: orphans.map((o) => ({
      key: o.blob.key,
      sha256: o.sha256,
      size: o.blob.size,
      lastModified: o.blob.lastModified.toISOString(),
      namedByState: o.namedByState,
    })),
    totals: {
      entries: entries.length,
      unreadableEntries: entries.filter((e) => 'problem' in e.read).length,
      blobs: blobs.length,
      blobBytes: sumSizes(blobs),
      orphans: orphans.length,
      orphanBytes: sumSizes(orphans.map((o) => o.blob)),
    },
  };
}
