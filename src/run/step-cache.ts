// The step cache as run/ sees it: a finished step's outputs kept by fingerprint, so that
// another runner (or recipe) restores the step instead of running it, and fetches only
// the files a step that runs reads. Types only: the S3 implementation is
// store/s3-step-cache.ts, given to the run by cli/ beside the RecipeStore.
import type { Result } from '../core/result.js';
import type { Exec } from '../tools/exec.js';
import type { JsonValue } from '../plan/step.js';

/** One file of a cached step: its name in the step's directory and its content. */
export interface CachedFile {
  readonly file: string;
  /** The work directory's digest of the content (run/file-identity.ts hashFile). */
  readonly sha256: string;
  readonly size: number;
}

/** What a step with a fingerprint produced, as the cache holds it. */
export interface CachedOutputs {
  readonly kind: string;
  readonly fingerprint: string;
  /** The recipe whose run made it (any recipe may use it). */
  readonly recipe: string;
  /** ISO time the entry was written. */
  readonly created: string;
  readonly artifacts: Readonly<Record<string, CachedFile>>;
  readonly values: Readonly<Record<string, JsonValue>>;
  /** Digest of artifacts + values (run/checkpoint.ts outputDigestOf): the state's. */
  readonly outputDigest: string;
}

/** What a lookup found: an entry, none, or an answer that is no entry (said why). */
export type CacheLookup =
  | { readonly found: CachedOutputs; readonly problem?: undefined }
  | { readonly found?: undefined; readonly problem?: string };

/** Why a file did not come back from the cache: the producing step runs again here. */
export interface CacheFetchFailure {
  readonly reason: 'missing' | 'corrupt' | 'unreachable' | 'local' | 'canceled';
  /** One sentence, for the step's log and the user. */
  readonly detail: string;
}

export interface CacheTransferOptions {
  readonly signal: AbortSignal;
  readonly exec: Exec;
  readonly log: (line: string) => void;
  /** The cores free for compression right now, asked before each chunk (core/core-share.ts). */
  readonly cores?: () => number;
}

/**
 * A step cache. Never throws for the cloud's failures: they are values, and a cache that
 * fails is a cache miss (the build goes on without it).
 */
export interface StepCache {
  /** Where, for messages: `s3://bucket/prefix/_cache/`. */
  readonly where: string;
  /** Whether steps of this kind are cached (those whose only effect is their outputs). */
  caches(kind: string): boolean;
  /** The entry of `fingerprint`, if a valid one is there. */
  lookup(fingerprint: string, signal: AbortSignal): Promise<CacheLookup>;
  /**
   * Uploads each artifact (a file in `dir`) as a blob, verified, then writes the entry,
   * last: an entry never names a blob that is not whole. Returns the bytes sent, or why
   * nothing was made (then no entry exists, or an older one for the same fingerprint).
   */
  save(
    entry: Omit<CachedOutputs, 'recipe' | 'created'>,
    dir: string,
    options: CacheTransferOptions,
  ): Promise<Result<{ readonly bytesSent: number }, string>>;
  /** Downloads one file to `dest` (absent), kept only when its digest and size match. */
  fetch(
    file: CachedFile,
    dest: string,
    options: CacheTransferOptions,
  ): Promise<Result<{ readonly bytesReceived: number }, CacheFetchFailure>>;
}
