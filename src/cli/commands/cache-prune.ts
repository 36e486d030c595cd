// `emi-recipe cache prune [RECIPE] --older-than 30d [--dry-run] [--json]`: removes the
// cache entries made before the cutoff, then the blobs no remaining entry and no recipe's
// state names that were written before the cutoff too (store/cache-prune.ts decides,
// store/cache-prune-inventory.ts deletes). Prints what it removed and the bytes freed.
import type { ListedObject } from '../../cloud/object-listing.js';
import { describeCloudFailure } from '../../cloud/aws-errors.js';
import { pruneCache, readCacheInventory } from '../../store/cache-prune-inventory.js';
import { decidePrune, entryTime, type ReadEntry } from '../../store/cache-prune.js';
import type { CliDeps } from '../deps.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { cacheCloudFailure, openCache, type CacheTargetFlags } from './cache-open.js';
import { blobLine, count, entryLine, formatAge, formatSize, sumSizes } from './cache-text.js';

export interface CachePruneFlags extends CacheTargetFlags {
  /** --older-than, in milliseconds (parsed by cache-open.ts parseAge). */
  readonly olderThan: number;
  readonly dryRun: boolean;
  readonly json: boolean;
}

export async function runCachePrune(
  recipeFile: string | undefined,
  flags: CachePruneFlags,
  deps: CliDeps,
): Promise<ExitCode> {
  const opened = await openCache(recipeFile, flags, deps);
  if (!opened.cache) return opened.exit;
  const { cache } = opened;
  try {
    const now = new Date();
    const cutoff = new Date(now.getTime() - flags.olderThan);
    const read = await readCacheInventory(cache.io);
    if (!read.ok) return cacheCloudFailure(deps, cache.label, read.error);
    const decision = decidePrune(read.value, cutoff);
    const out = (line: string): void => {
      if (!flags.json) deps.terminal.out(`${line}\n`);
    };
    const verb = flags.dryRun ? 'would remove' : 'removed';
    out(
      `${flags.dryRun ? 'Dry run: nothing is deleted. ' : ''}Pruning the step cache of ${cache.label}: ` +
        `what was made before ${cutoff.toISOString()} (${formatAge(flags.olderThan)} ago).`,
    );
    const entryText = (e: ReadEntry): string =>
      `${verb} entry ${entryLine(e, now, 'problem' in e ? `(unreadable: ${e.problem})` : '')}`.trimEnd();
    if (flags.dryRun) {
      for (const e of decision.entries) out(entryText(e));
      for (const b of decision.blobs) out(`${verb} blob ${blobLine(b, now)}`);
      reportYoung(out, decision.youngOrphans);
      const freed = sumSizes(decision.entries.map((e) => e.object)) + sumSizes(decision.blobs);
      out(
        `Dry run: would remove ${count(decision.entries.length, 'entry', 'entries')} and ${count(decision.blobs.length, 'blob')}, freeing ${formatSize(freed)}. Nothing was deleted.`,
      );
      if (flags.json)
        printJson(deps, {
          dryRun: true,
          cutoff,
          entries: decision.entries,
          blobs: decision.blobs,
          spared: [],
          young: decision.youngOrphans,
        });
      return EXIT.ok;
    }
    const outcome = await pruneCache(cache.io, read.value, decision);
    const removed = new Set(outcome.entriesRemoved.map((o) => o.key));
    for (const e of decision.entries) if (removed.has(e.object.key)) out(entryText(e));
    for (const b of outcome.blobsRemoved) out(`${verb} blob ${blobLine(b, now)}`);
    if (outcome.spared.length > 0)
      out(
        `kept ${count(outcome.spared.length, 'blob')} an entry or state written while pruning names.`,
      );
    reportYoung(out, decision.youngOrphans);
    const freed = sumSizes(outcome.entriesRemoved) + sumSizes(outcome.blobsRemoved);
    out(
      `Removed ${count(outcome.entriesRemoved.length, 'entry', 'entries')} and ${count(outcome.blobsRemoved.length, 'blob')}: ${formatSize(freed)} freed.`,
    );
    if (flags.json)
      printJson(deps, {
        dryRun: false,
        cutoff,
        entries: decision.entries.filter((e) => removed.has(e.object.key)),
        blobs: outcome.blobsRemoved,
        spared: outcome.spared,
        young: decision.youngOrphans,
      });
    for (const r of outcome.refused)
      deps.terminal.err(`error: ${r.key} was not deleted: ${r.code} ${r.message}\n`);
    if (outcome.failure) {
      if (deps.signal.aborted) return EXIT.interrupted;
      deps.terminal.err(
        `error: pruning stopped: ${describeCloudFailure(outcome.failure)}\nWhat is listed above was removed; run the same command again to finish.\n`,
      );
      return EXIT.failure;
    }
    if (outcome.refused.length > 0) {
      deps.terminal.err(
        'Check that the credentials may delete objects below the store (s3:DeleteObject), then run the same command again.\n',
      );
      return EXIT.failure;
    }
    return EXIT.ok;
  } finally {
    await cache.close();
  }
}

function reportYoung(out: (line: string) => void, young: readonly ListedObject[]): void {
  if (young.length > 0)
    out(
      `kept ${count(young.length, 'blob')} (${formatSize(sumSizes(young))}) that no entry names but written since the cutoff: an upload may be under way.`,
    );
}

/** `cache prune --json` (version 1; fields are only ever added). */
function printJson(
  deps: CliDeps,
  r: {
    dryRun: boolean;
    cutoff: Date;
    entries: readonly ReadEntry[];
    blobs: readonly ListedObject[];
    spared: readonly ListedObject[];
    young: readonly ListedObject[];
  },
): void {
  const doc = {
    version: 1,
    dryRun: r.dryRun,
    cutoff: r.cutoff.toISOString(),
    entries: r.entries.map((e) => ({
      key: e.object.key,
      fingerprint: e.fingerprint,
      created: entryTime(e).toISOString(),
      size: e.object.size,
      ...('problem' in e
        ? { unreadable: e.problem }
        : { kind: e.entry.kind, recipe: e.entry.recipe }),
    })),
    blobs: r.blobs.map((b) => ({
      key: b.key,
      size: b.size,
      lastModified: b.lastModified.toISOString(),
    })),
    keptWrittenMeanwhile: r.spared.map((b) => b.key),
    keptYoung: r.young.map((b) => b.key),
    bytesFreed: sumSizes(r.entries.map((e) => e.object)) + sumSizes(r.blobs),
  };
  deps.terminal.out(`${JSON.stringify(doc, null, 2)}\n`);
}
