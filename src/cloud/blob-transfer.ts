// A file as one content-addressed blob in S3 and back: the step cache's transport.
// Upload: the file gzipped sparse (bundle/sparse-gzip.ts: holes are neither read nor sent
// as zeros) into a temporary file, then one PUT or parallel multipart parts, each with
// Content-MD5 and retried; a failed multipart upload is aborted, and an object exists only
// once CompleteMultipartUpload made the whole of it appear at once. Download: streamed
// through gunzip into a sparse temporary file beside the destination (retried from the
// start when the connection drops), its SHA-256 and size checked against what the caller
// recorded, renamed into place only then: a corrupt, truncated or forged blob is refused
// and leaves nothing behind.
import { createHash } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { decodeSparseGzip, encodeSparseGzip, isBadGzip } from '../bundle/sparse-gzip.js';
import type { CloudFailure } from './aws-errors.js';
import type { BlobObjects, UploadedPart } from './blob-objects.js';
import { withRetries, type RetryPolicy } from './retry.js';

/** The process runner the sparse encoder lists extents with (tools/exec.ts's Exec). */
type Exec = Parameters<typeof encodeSparseGzip>[2]['exec'];

/** Multipart above this encoded size; S3's smallest part is 5 MiB. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Why a blob did not make it across. */
export type BlobFailure =
  | { readonly reason: 'cloud'; readonly failure: CloudFailure }
  /** The blob's content is not what was recorded: never used. */
  | {
      readonly reason: 'corrupt';
      readonly key: string;
      readonly where: string;
      readonly detail: string;
    }
  /** A local file could not be read or written (ENOSPC, EACCES…). */
  | {
      readonly reason: 'local';
      readonly path: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly reason: 'canceled' };

export interface BlobTransferOptions {
  readonly signal: AbortSignal;
  /** For temporary files; on the destination's file system for downloads. */
  readonly tmpDir: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly log?: (line: string) => void;
  /**
   * The caller's digest of a file's content, checked against `expected.sha256` instead of
   * the plain SHA-256 the transfer computes (the step cache records the work directory's
   * own digest, run/file-identity.ts hashFile, so that its entries and the state agree).
   * Costs one more read of the file, from the page cache as a rule.
   */
  readonly digest?: (path: string, signal: AbortSignal) => Promise<string>;
  /** Runs igzip (ISA-L) to inflate a download when it is installed; zlib without it. */
  readonly exec?: Exec;
}

export interface PutBlobResult {
  /** SHA-256 and size of the file's content (not of the gzip). */
  readonly sha256: string;
  readonly size: number;
  /** Bytes of the gzip blob sent; 0 when it was already there. */
  readonly bytesSent: number;
}

/** The key of a content: `<prefix>blobs/sha256/<hex>.gz`. */
export function blobKey(prefix: string, sha256: string): string {
  return `${prefix}blobs/sha256/${sha256}.gz`;
}

function localFailure(error: unknown, path: string): BlobFailure {
  const e = error as NodeJS.ErrnoException;
  return { reason: 'local', path, code: e.code ?? 'EIO', message: e.message };
}

let serial = 0;
function tempName(dir: string, suffix: string): string {
  serial += 1;
  return join(dir, `.emi-blob-${process.pid}-${serial}${suffix}`);
}

/**
 * Uploads `file`, whose content has digest `sha256` (recorded when the file was made), as
 * the blob `blobKey(prefix, sha256)` unless that blob is already there. A file whose
 * content no longer has that digest is refused: the key would lie.
 */
export async function putBlob(
  objects: BlobObjects,
  file: string,
  key: string,
  expected: { readonly sha256: string },
  options: BlobTransferOptions & {
    readonly exec: Exec;
    readonly partSize?: number;
    readonly concurrency?: number;
    /** Cores free for compression, asked before each chunk (a boot test's VM claims some). */
    readonly cores?: () => number;
  },
): Promise<Result<PutBlobResult, BlobFailure>> {
  const present = await objects.head(key, options.signal);
  if (!present.ok) return err({ reason: 'cloud', failure: present.error });
  const encoded = tempName(options.tmpDir, '.gz');
  try {
    const mismatch = (sha256: string): Result<never, BlobFailure> =>
      err({
        reason: 'corrupt',
        key,
        where: file,
        detail: `the file's SHA-256 is ${sha256}, not the ${expected.sha256} recorded when it was made: it changed since`,
      });
    // With the caller's digest, a blob the store already holds is neither compressed nor sent.
    if (options.digest !== undefined && present.value !== undefined) {
      const sha256 = await options.digest(file, options.signal);
      if (sha256 !== expected.sha256) return mismatch(sha256);
      options.log?.(`cache: ${key} is already in ${objects.where}`);
      return ok({ sha256, size: (await stat(file)).size, bytesSent: 0 });
    }
    // Level 1: a cache blob is written on every change and read back on one runner or two;
    // deflating at gzip's default level took the most of a cached step's upload.
    // igzip when installed: deflate at level 1 in a fifth of zlib's CPU time, which a boot
    // test running beside the upload needs. The content is hashed here only without the
    // caller's digest (which is computed once, below, its own way).
    const encodedContent = await encodeSparseGzip(file, encoded, {
      exec: options.exec,
      signal: options.signal,
      level: 1,
      igzip: true,
      hash: options.digest === undefined,
      ...(options.cores !== undefined ? { limit: options.cores } : {}),
    });
    if (!encodedContent.ok)
      return err({
        reason: 'local',
        path: file,
        code: 'EIO',
        message:
          encodedContent.error.reason === 'igzip'
            ? `igzip could not compress it (${encodedContent.error.failure.stderrTail.at(-1) ?? encodedContent.error.failure.reason})`
            : 'its data extents could not be listed',
      });
    if (encodedContent.value === undefined) return err({ reason: 'canceled' });
    const { size } = encodedContent.value;
    const sha256 =
      options.digest !== undefined
        ? await options.digest(file, options.signal)
        : encodedContent.value.sha256;
    if (sha256 === undefined) throw new Error('putBlob: the encoder gave no digest');
    if (sha256 !== expected.sha256) return mismatch(sha256);
    if (present.value !== undefined) {
      options.log?.(`cache: ${key} is already in ${objects.where}`);
      return ok({ sha256, size, bytesSent: 0 });
    }
    const encodedSize = (await stat(encoded)).size;
    const sent = await send(objects, encoded, encodedSize, key, options);
    if (!sent.ok) return sent;
    // What the server holds now is the whole blob, or the entry is not made.
    const stored = await objects.head(key, options.signal);
    if (!stored.ok) return err({ reason: 'cloud', failure: stored.error });
    if (stored.value?.size !== encodedSize)
      return err({
        reason: 'corrupt',
        key,
        where: objects.where,
        detail: `after the upload the server holds ${stored.value === undefined ? 'no object' : `${stored.value.size} bytes`}, not the ${encodedSize} bytes sent`,
      });
    return ok({ sha256, size, bytesSent: encodedSize });
  } catch (error) {
    if (options.signal.aborted) return err({ reason: 'canceled' });
    return err(localFailure(error, encoded));
  } finally {
    await rm(encoded, { force: true });
  }
}

const md5Base64 = (b: Buffer): string => createHash('md5').update(b).digest('base64');

/** One PUT, or a multipart upload in parallel parts, each retried; aborted on failure. */
async function send(
  objects: BlobObjects,
  path: string,
  size: number,
  key: string,
  options: BlobTransferOptions & { readonly partSize?: number; readonly concurrency?: number },
): Promise<Result<void, BlobFailure>> {
  const partSize = Math.max(5 * 1024 * 1024, options.partSize ?? DEFAULT_PART_SIZE);
  const retrying = <T>(
    attempt: () => Promise<Result<T, CloudFailure>>,
  ): Promise<Result<T, CloudFailure>> =>
    withRetries(attempt, {
      signal: options.signal,
      ...(options.retry ? { policy: options.retry } : {}),
      onRetry: (f, n, ms) =>
        options.log?.(`cache: ${f.operation} ${key}: ${f.reason}, attempt ${n + 1} in ${ms} ms`),
    });
  const file = await open(path, 'r');
  const read = async (start: number, length: number): Promise<Buffer> => {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, start);
    return buffer.subarray(0, bytesRead);
  };
  try {
    if (size <= partSize) {
      const body = await read(0, size);
      const put = await retrying(() => objects.put(key, body, md5Base64(body), options.signal));
      return put.ok ? ok(undefined) : err({ reason: 'cloud', failure: put.error });
    }
    const started = await retrying(() => objects.startUpload(key, options.signal));
    if (!started.ok) return err({ reason: 'cloud', failure: started.error });
    const uploadId = started.value;
    const count = Math.ceil(size / partSize);
    const parts: UploadedPart[] = [];
    let next = 0;
    let failed: CloudFailure | undefined;
    const worker = async (): Promise<void> => {
      while (failed === undefined && next < count) {
        const index = next++;
        const body = await read(index * partSize, Math.min(partSize, size - index * partSize));
        const r = await retrying(() =>
          objects.putPart(key, uploadId, index + 1, body, md5Base64(body), options.signal),
        );
        if (r.ok) parts.push({ partNumber: index + 1, etag: r.value });
        else failed ??= r.error;
      }
    };
    await Promise.all(Array.from({ length: Math.min(count, options.concurrency ?? 4) }, worker));
    const done =
      failed === undefined
        ? await retrying(() =>
            objects.completeUpload(
              key,
              uploadId,
              [...parts].sort((a, b) => a.partNumber - b.partNumber),
              options.signal,
            ),
          )
        : err(failed);
    if (done.ok) return ok(undefined);
    // Leave no parts behind (with a signal of its own: the run's may be the reason).
    await objects.abortUpload(key, uploadId, AbortSignal.timeout(30_000));
    return err({ reason: 'cloud', failure: done.error });
  } finally {
    await file.close();
  }
}

/**
 * Downloads the blob at `key` to `dest` (which must not exist), sparse, and keeps it only
 * if its content has the recorded digest and size. Returns the compressed bytes received.
 */
export async function getBlob(
  objects: BlobObjects,
  key: string,
  dest: string,
  expected: { readonly sha256: string; readonly size: number },
  options: BlobTransferOptions,
): Promise<Result<{ bytesReceived: number }, BlobFailure>> {
  const temp = tempName(options.tmpDir, '.part');
  const corrupt = (detail: string): Result<never, BlobFailure> =>
    err({ reason: 'corrupt', key, where: objects.where, detail });
  // A dropped connection mid-body is another attempt from the start; a bad blob is not.
  let bad: Result<never, BlobFailure> | undefined;
  const fetched = await withRetries(
    async () => {
      const body = await objects.get(key, options.signal);
      if (!body.ok) return body;
      try {
        // With the caller's digest, the content is not hashed a second time while inflated.
        return ok(
          await decodeSparseGzip(body.value, temp, options.signal, {
            ...(options.exec !== undefined ? { exec: options.exec } : {}),
            igzip: true,
            hash: options.digest === undefined,
          }),
        );
      } catch (error) {
        await rm(temp, { force: true });
        if (isBadGzip(error)) {
          bad = corrupt(`it is not a whole gzip stream (${(error as Error).message})`);
          return ok(undefined);
        }
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (
          !options.signal.aborted &&
          /^(ECONNRESET|EPIPE|ETIMEDOUT|ERR_STREAM_PREMATURE_CLOSE)$/.test(code)
        )
          return err({
            reason: 'server-error',
            attempts: 1,
            endpoint: objects.where,
            service: 's3',
            operation: 'GetObject',
            subject: key,
            code,
          });
        bad = options.signal.aborted ? err({ reason: 'canceled' }) : err(localFailure(error, temp));
        return ok(undefined);
      }
    },
    { signal: options.signal, ...(options.retry ? { policy: options.retry } : {}) },
  );
  if (bad) return bad;
  if (!fetched.ok)
    return fetched.error.reason === 'canceled'
      ? err({ reason: 'canceled' })
      : err({ reason: 'cloud', failure: fetched.error });
  const decoded = fetched.value;
  if (decoded === undefined) return err({ reason: 'canceled' });
  let got = decoded;
  if (options.digest !== undefined) {
    try {
      got = { ...decoded, sha256: await options.digest(temp, options.signal) };
    } catch (error) {
      await rm(temp, { force: true });
      return options.signal.aborted ? err({ reason: 'canceled' }) : err(localFailure(error, temp));
    }
  }
  if (got.sha256 !== expected.sha256 || got.size !== expected.size) {
    await rm(temp, { force: true });
    return corrupt(
      `its content has SHA-256 ${got.sha256} and ${got.size} bytes, not the recorded ${expected.sha256} and ${expected.size} bytes`,
    );
  }
  try {
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true });
    return err(localFailure(error, dest));
  }
  return ok({ bytesReceived: got.compressedBytes });
}

/** One sentence for a BlobFailure. */
export function describeBlobFailure(f: BlobFailure): string {
  switch (f.reason) {
    case 'cloud':
      return `${f.failure.operation} of ${f.failure.subject ?? 'an object'} at ${f.failure.endpoint} failed (${f.failure.reason}${f.failure.code ? `, ${f.failure.code}` : ''})`;
    case 'corrupt':
      return `the cache blob ${f.key} in ${f.where} was refused: ${f.detail}`;
    case 'local':
      return `${f.path}: ${f.code} (${f.message})`;
    case 'canceled':
      return 'canceled';
  }
}
