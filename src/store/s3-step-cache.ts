// The step cache in an S3 store (run/step-cache.ts's StepCache), laid out as
// cache-layout.ts says: each artifact a content-addressed blob (cloud/blob-transfer.ts),
// then one entry per step fingerprint, written last. An entry that does not parse is a
// miss, said why; a cloud failure is a miss too: the build goes on without the cache.
import { dirname, join } from 'node:path';
import { err, ok } from '../core/result.js';
import type { S3Url } from '../core/s3-url.js';
import type { BlobObjects } from '../cloud/blob-objects.js';
import { describeBlobFailure, getBlob, putBlob, type BlobFailure } from '../cloud/blob-transfer.js';
import { hashFile } from '../run/file-identity.js';
import type { CacheFetchFailure, CachedOutputs, StepCache } from '../run/step-cache.js';
import type { CasObjects } from './cas-objects.js';
import {
  CACHE_ENTRY_FORMAT,
  cacheBlobKey,
  cacheEntryKey,
  cachePrefix,
  parseCacheEntry,
  serializeCacheEntry,
} from './cache-layout.js';

export interface S3StepCacheOptions {
  /** The entries (small JSON objects). */
  readonly objects: CasObjects;
  /** The blobs (large, multipart). */
  readonly blobs: BlobObjects;
  readonly store: S3Url;
  /** The recipe whose runs write entries (named in them, for `cache ls`). */
  readonly recipe: string;
  /** The step kinds whose outputs are cached (cli/ decides). */
  readonly kinds: ReadonlySet<string>;
  readonly now?: () => number;
}

/** The work directory's digest: what the state records, so entries and state agree. */
const digest = (path: string, signal: AbortSignal): Promise<string> => hashFile(path, signal);

function fetchFailure(failure: BlobFailure): CacheFetchFailure {
  const detail = describeBlobFailure(failure);
  switch (failure.reason) {
    case 'cloud':
      return { reason: failure.failure.reason === 'not-found' ? 'missing' : 'unreachable', detail };
    case 'corrupt':
      return { reason: 'corrupt', detail };
    case 'local':
      return { reason: 'local', detail };
    case 'canceled':
      return { reason: 'canceled', detail };
  }
}

/** The StepCache below `options.store`'s prefix. */
export function s3StepCache(options: S3StepCacheOptions): StepCache {
  const now = options.now ?? Date.now;
  // One upload per blob at a time: steps that share files (a bundle's parts, hard-linked
  // into the manifest step's directory) save in the background side by side, and each
  // would see the blob absent and send it. A later save of the same blob waits for the
  // earlier one, then finds the blob there and sends nothing.
  const sending = new Map<string, Promise<unknown>>();
  const oneAtATime = async <T>(key: string, put: () => Promise<T>): Promise<T> => {
    const earlier = sending.get(key) ?? Promise.resolve();
    const mine = earlier.then(put, put);
    sending.set(key, mine);
    try {
      return await mine;
    } finally {
      if (sending.get(key) === mine) sending.delete(key);
    }
  };
  return {
    where: `s3://${options.store.bucket}/${cachePrefix(options.store)}`,
    caches: (kind) => options.kinds.has(kind),
    lookup: async (fingerprint, signal) => {
      const key = cacheEntryKey(options.store, fingerprint);
      const read = await options.objects.get(key, signal);
      if (!read.ok) return { problem: `the cache could not be read: ${read.error.detail}` };
      if (read.value === undefined) return {};
      const entry = parseCacheEntry(read.value.body, key, fingerprint);
      if (!entry.ok) return { problem: `the cache entry was refused: ${entry.error}` };
      return { found: entry.value };
    },
    save: async (entry, dir, transfer) => {
      let bytesSent = 0;
      for (const [name, artifact] of Object.entries(entry.artifacts)) {
        const file = join(dir, artifact.file);
        const key = cacheBlobKey(options.store, artifact.sha256);
        const put = await oneAtATime(key, () =>
          putBlob(
            options.blobs,
            file,
            key,
            { sha256: artifact.sha256 },
            {
              signal: transfer.signal,
              exec: transfer.exec,
              // Beside the step's directory (the same file system), never inside it.
              tmpDir: dirname(dir),
              log: transfer.log,
              digest,
              ...(transfer.cores !== undefined ? { cores: transfer.cores } : {}),
            },
          ),
        );
        if (!put.ok)
          return err(`artifact ${name} (${artifact.file}): ${describeBlobFailure(put.error)}`);
        bytesSent += put.value.bytesSent;
      }
      const full: CachedOutputs & { format: typeof CACHE_ENTRY_FORMAT } = {
        format: CACHE_ENTRY_FORMAT,
        kind: entry.kind,
        fingerprint: entry.fingerprint,
        recipe: options.recipe,
        created: new Date(now()).toISOString(),
        artifacts: entry.artifacts,
        values: entry.values,
        outputDigest: entry.outputDigest,
      };
      const key = cacheEntryKey(options.store, entry.fingerprint);
      // Unconditional: an entry of one fingerprint names the same outputs whoever writes it.
      const put = await options.objects.put(
        key,
        serializeCacheEntry(full),
        { always: true },
        transfer.signal,
      );
      if (!put.ok)
        return err(
          `its entry ${key}: ${put.error.reason === 'io' ? put.error.detail : 'refused (precondition)'}`,
        );
      return ok({ bytesSent });
    },
    fetch: async (file, dest, transfer) => {
      const got = await getBlob(
        options.blobs,
        cacheBlobKey(options.store, file.sha256),
        dest,
        { sha256: file.sha256, size: file.size },
        {
          signal: transfer.signal,
          tmpDir: dirname(dest),
          log: transfer.log,
          digest,
          exec: transfer.exec,
        },
      );
      return got.ok ? ok(got.value) : err(fetchFailure(got.error));
    },
  };
}
