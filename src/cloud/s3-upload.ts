// Uploading a bundle like euca-upload-bundle (spec §3): bucket checked and created, parts
// PUT with a canned ACL, the manifest LAST so that a present manifest implies complete
// parts. Parallel, resumable (an object whose ETag is the local MD5 is not sent again),
// retried. Also delete-bundle. Talks to S3 only through ObjectStorePort.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ProgressUpdate } from '../core/task.js';
import { err, ok, type Result } from '../core/result.js';
import { bundleKey, fileProblem, localBundle, type LocalFile } from './bundle-files.js';
import { parseManifest } from '../bundle/manifest-read.js';
import { readRegularFile } from '../bundle/regular-file.js';
import type { CloudFailure } from './aws-errors.js';
import type { BundleAcl, ObjectStorePort, PutObjectRequest } from './object-store.js';
import { withRetries, type RetryPolicy } from './retry.js';

export interface UploadBundleOptions {
  readonly store: ObjectStorePort;
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for none); a trailing '/' is added as euca2ools does. */
  readonly prefix: string;
  readonly manifestPath: string;
  /** Where the part files are; default: the manifest's directory. */
  readonly partsDir?: string;
  /** Default `aws-exec-read`, as euca-upload-bundle. */
  readonly acl?: BundleAcl;
  /** Parts in flight at once; default 4. Memory use is about concurrency × part size. */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
  /** Bytes done (sent or found already present) out of the bundle's total. */
  readonly onProgress?: (update: ProgressUpdate) => void;
  /** One line per part and per retry; no secrets. */
  readonly log?: (line: string) => void;
  readonly retry?: Partial<RetryPolicy>;
}

export { bundleKey } from './bundle-files.js';

export interface UploadBundleResult {
  /** `PREFIX/NAME.manifest.xml`: with the bucket, the image location to register. */
  readonly manifestKey: string;
  /** Keys PUT by this call, parts in manifest order then the manifest. */
  readonly sent: readonly string[];
  /** Keys already present with the same MD5, not sent again. */
  readonly skipped: readonly string[];
  readonly bytesSent: number;
  /** Size of all parts plus the manifest. */
  readonly bytesTotal: number;
}

function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** Bucket check, then create: euca2ools does GET ?max-keys=0 then PUT (spec §3). */
async function ensureBucket(
  store: ObjectStorePort,
  bucket: string,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<Result<void, CloudFailure>> {
  const exists = await store.bucketExists(bucket, signal);
  if (!exists.ok) return exists;
  if (exists.value) return ok(undefined);
  log(`creating bucket ${bucket}`);
  const created = await store.createBucket(bucket, signal);
  return created.ok ? ok(undefined) : created;
}

/** One PutObject whose returned ETag, when there is one, must be the body's MD5. */
async function putChecked(
  store: ObjectStorePort,
  object: PutObjectRequest,
  signal: AbortSignal,
): Promise<Result<void, CloudFailure>> {
  const result = await store.putObject(object, signal);
  if (!result.ok) return result;
  if (result.value.etag !== '' && result.value.etag !== object.md5Hex)
    return err({
      reason: 'integrity',
      endpoint: store.endpoint,
      service: 's3',
      operation: 'PutObject',
      subject: `${object.bucket}/${object.key}`,
      expectedMd5: object.md5Hex,
      gotEtag: result.value.etag,
    });
  return ok(undefined);
}

/**
 * Uploads the bundle described by `manifestPath`. Every part file must exist before
 * anything is sent. Fails with the first part that could not be stored after retries
 * (the others in flight are stopped); a re-run then sends only what is missing.
 */
export async function uploadBundle(
  options: UploadBundleOptions,
): Promise<Result<UploadBundleResult, CloudFailure>> {
  const { store, bucket, signal } = options;
  const endpoint = store.endpoint;
  const acl = options.acl ?? 'aws-exec-read';
  const log = options.log ?? ((): void => undefined);
  const local = await localBundle(options, endpoint);
  if (!local.ok) return local;
  const { parts, manifestFile } = local.value;
  const bytesTotal = parts.reduce((sum, p) => sum + p.size, 0) + manifestFile.size;

  const bucketReady = await ensureBucket(store, bucket, log, signal);
  if (!bucketReady.ok) return bucketReady;
  const listPrefix = bundleKey(options.prefix, '');
  const present = await store.listObjects(bucket, listPrefix, signal);
  if (!present.ok) return present;

  let done = 0;
  let bytesSent = 0;
  const sent = new Map<string, true>();
  const skipped: string[] = [];
  const report = (message: string): void => {
    options.onProgress?.({ done, total: bytesTotal, unit: 'bytes', message });
  };
  report('starting');

  const inner = new AbortController();
  const onOuterAbort = (): void => {
    inner.abort();
  };
  signal.addEventListener('abort', onOuterAbort, { once: true });
  const outcome: { failure?: CloudFailure } = {};

  const sendFile = async (file: LocalFile): Promise<Result<void, CloudFailure>> => {
    // The size seen before the upload started: a part that grew since is refused.
    const read = await readRegularFile(file.path, { maxBytes: file.size });
    if (!read.ok) return err(fileProblem(file.path, 'PutObject', endpoint, read.error));
    const body = read.value;
    const md5 = md5Hex(body);
    const existing = present.value.get(file.key);
    if (existing !== undefined && existing.etag === md5 && existing.size === body.byteLength) {
      skipped.push(file.key);
      done += body.byteLength;
      log(`${bucket}/${file.key} already present (same MD5), not sent again`);
      report(`${basename(file.key)} already present`);
      return ok(undefined);
    }
    const put = await withRetries(
      () => putChecked(store, { bucket, key: file.key, body, md5Hex: md5, acl }, inner.signal),
      {
        signal: inner.signal,
        ...(options.retry !== undefined ? { policy: options.retry } : {}),
        onRetry: (failure, attempt, delayMs) => {
          log(
            `${bucket}/${file.key}: attempt ${attempt} failed (${failure.reason}${failure.code !== undefined ? ` ${failure.code}` : ''}${failure.httpStatus !== undefined ? ` HTTP ${failure.httpStatus}` : ''}); retrying in ${delayMs} ms`,
          );
        },
      },
    );
    if (!put.ok) return put;
    sent.set(file.key, true);
    done += body.byteLength;
    bytesSent += body.byteLength;
    log(`uploaded ${bucket}/${file.key} (${body.byteLength} bytes)`);
    report(`uploaded ${basename(file.key)}`);
    return ok(undefined);
  };

  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (outcome.failure === undefined && !inner.signal.aborted) {
      const index = next;
      next += 1;
      const file = parts[index];
      if (file === undefined) return;
      const result = await sendFile(file);
      if (!result.ok) {
        outcome.failure ??= result.error;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, Math.max(parts.length, 1)) }, worker),
    );
    if (outcome.failure === undefined && signal.aborted) {
      outcome.failure = { reason: 'canceled', endpoint, service: 's3', operation: 'upload-bundle' };
    }
    if (outcome.failure !== undefined) {
      // A part that failed because another one aborted the batch says 'canceled': report the cause.
      return err(signal.aborted ? { ...outcome.failure, reason: 'canceled' } : outcome.failure);
    }
    // The manifest goes last: its presence promises every part is there.
    const manifestSent = await sendFile(manifestFile);
    if (!manifestSent.ok) return manifestSent;
  } finally {
    signal.removeEventListener('abort', onOuterAbort);
  }
  const order = [...parts.map((p) => p.key), manifestFile.key];
  return ok({
    manifestKey: manifestFile.key,
    sent: order.filter((key) => sent.has(key)),
    skipped: order.filter((key) => skipped.includes(key)),
    bytesSent,
    bytesTotal,
  });
}

export interface DeleteBundleOptions {
  readonly store: ObjectStorePort;
  readonly bucket: string;
  readonly prefix: string;
  /** The manifest's file name (`NAME.manifest.xml`) under bucket/prefix. */
  readonly manifestName: string;
  readonly signal: AbortSignal;
}

/**
 * Deletes a bundle as euca-delete-bundle does (spec §5): GET the manifest, DELETE every
 * part it lists, then the manifest. A bundle whose manifest is already gone is ok with
 * nothing deleted, so cleanup can be repeated.
 */
export async function deleteBundle(
  options: DeleteBundleOptions,
): Promise<Result<{ deleted: readonly string[] }, CloudFailure>> {
  const { store, bucket, signal } = options;
  const manifestKey = bundleKey(options.prefix, options.manifestName);
  const fetched = await store.getObject(bucket, manifestKey, signal);
  if (!fetched.ok) {
    if (fetched.error.reason === 'not-found') return ok({ deleted: [] });
    return fetched;
  }
  const manifest = parseManifest(Buffer.from(fetched.value).toString('latin1'));
  if (!manifest.ok) {
    return err({
      reason: 'refused',
      endpoint: store.endpoint,
      service: 's3',
      operation: 'delete-bundle',
      subject: `${bucket}/${manifestKey}`,
      code: 'InvalidManifest',
      cloudMessage: `${manifest.error.field}: ${manifest.error.problem}`,
    });
  }
  const deleted: string[] = [];
  for (const part of manifest.value.image.parts) {
    const key = bundleKey(options.prefix, part.filename);
    const removed = await store.deleteObject(bucket, key, signal);
    if (!removed.ok) return removed;
    deleted.push(key);
  }
  const removed = await store.deleteObject(bucket, manifestKey, signal);
  if (!removed.ok) return removed;
  deleted.push(manifestKey);
  return ok({ deleted });
}
