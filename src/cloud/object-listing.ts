// Listing and bulk deletion of one bucket's objects under a prefix (what `cache ls|prune`
// needs): ListObjectsV2 one page at a time, DeleteObjects up to 1000 keys a request; the
// port, its AWS SDK adapter, and the paging and batching over it. Failures are
// CloudFailure values, never throws. Knows nothing of what the keys mean.
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { err, ok, type Result } from '../core/result.js';
import { toCloudFailure, type CloudFailure } from './aws-errors.js';

/** One object as a listing shows it. */
export interface ListedObject {
  readonly key: string;
  /** Bytes stored. */
  readonly size: number;
  /** When the object was last written, as the server says (its clock). */
  readonly lastModified: Date;
}

/** One page of a listing; `next` is the continuation token when there is more. */
export interface ListingPage {
  readonly objects: readonly ListedObject[];
  readonly next?: string;
}

/** A key DeleteObjects answered with an error (the others were deleted). */
export interface KeyNotDeleted {
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

/** S3's most keys in one DeleteObjects request, and in one ListObjectsV2 page. */
export const MAX_KEYS_PER_REQUEST = 1000;

export interface ObjectListingPort {
  /** The endpoint and bucket, for messages (never credentials). */
  readonly where: string;
  /** One ListObjectsV2 page of the keys starting with `prefix`, after `token`. */
  listPage(
    request: { readonly prefix: string; readonly token?: string; readonly maxKeys?: number },
    signal: AbortSignal,
  ): Promise<Result<ListingPage, CloudFailure>>;
  /** One DeleteObjects request (at most MAX_KEYS_PER_REQUEST keys); the keys it refused. */
  deleteBatch(
    keys: readonly string[],
    signal: AbortSignal,
  ): Promise<Result<readonly KeyNotDeleted[], CloudFailure>>;
}

/**
 * Every object under `prefix`, in key order, following continuation tokens. A page that
 * says it is truncated but gives no token, or repeats the last token, is a failure rather
 * than an endless loop.
 */
export async function listAllObjects(
  port: ObjectListingPort,
  prefix: string,
  signal: AbortSignal,
  pageSize: number = MAX_KEYS_PER_REQUEST,
): Promise<Result<ListedObject[], CloudFailure>> {
  const found: ListedObject[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await port.listPage(
      { prefix, ...(token !== undefined ? { token } : {}), maxKeys: pageSize },
      signal,
    );
    if (!page.ok) return page;
    found.push(...page.value.objects);
    token = page.value.next;
    if (token === undefined) return ok(found);
    if (seen.has(token) || token === '')
      return err({
        reason: 'refused',
        endpoint: port.where,
        service: 's3',
        operation: 'ListObjectsV2',
        subject: prefix,
        cloudMessage: `the server gave the continuation token ${JSON.stringify(token)} again: the listing would not end`,
      });
    seen.add(token);
  }
}

/**
 * Deletes `keys`, MAX_KEYS_PER_REQUEST per request, in order. Stops at the first request
 * that fails as a whole (the keys of earlier requests are gone: `deleted` says which);
 * keys the server refused one by one are collected and the rest goes on.
 */
export async function deleteAllObjects(
  port: ObjectListingPort,
  keys: readonly string[],
  signal: AbortSignal,
): Promise<{
  readonly deleted: readonly string[];
  readonly refused: readonly KeyNotDeleted[];
  readonly failure?: CloudFailure;
}> {
  const deleted: string[] = [];
  const refused: KeyNotDeleted[] = [];
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_REQUEST) {
    const batch = keys.slice(start, start + MAX_KEYS_PER_REQUEST);
    const r = await port.deleteBatch(batch, signal);
    if (!r.ok) return { deleted, refused, failure: r.error };
    const bad = new Set(r.value.map((k) => k.key));
    refused.push(...r.value);
    deleted.push(...batch.filter((k) => !bad.has(k)));
  }
  return { deleted, refused };
}

/** The port over an @aws-sdk/client-s3 client, in `bucket`. */
export function sdkObjectListing(
  s3: S3Client,
  endpoint: string,
  bucket: string,
): ObjectListingPort {
  const fail = (error: unknown, operation: string, subject: string, signal: AbortSignal) =>
    toCloudFailure(error, { endpoint, service: 's3', operation, subject, signal });
  return {
    where: `${endpoint} bucket ${bucket}`,
    async listPage(request, signal) {
      try {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: request.prefix,
            ...(request.token !== undefined ? { ContinuationToken: request.token } : {}),
            ...(request.maxKeys !== undefined ? { MaxKeys: request.maxKeys } : {}),
          }),
          { abortSignal: signal },
        );
        const objects: ListedObject[] = [];
        for (const o of page.Contents ?? [])
          if (o.Key !== undefined)
            objects.push({
              key: o.Key,
              size: o.Size ?? 0,
              lastModified: o.LastModified ?? new Date(0),
            });
        const next = page.IsTruncated === true ? (page.NextContinuationToken ?? '') : undefined;
        return ok(next !== undefined ? { objects, next } : { objects });
      } catch (error) {
        return err(fail(error, 'ListObjectsV2', `${bucket}/${request.prefix}`, signal));
      }
    },
    async deleteBatch(keys, signal) {
      if (keys.length === 0) return ok([]);
      if (keys.length > MAX_KEYS_PER_REQUEST)
        return err({
          reason: 'refused',
          endpoint,
          service: 's3',
          operation: 'DeleteObjects',
          subject: bucket,
          cloudMessage: `${String(keys.length)} keys in one request; S3 takes at most ${String(MAX_KEYS_PER_REQUEST)}`,
        });
      try {
        const out = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal: signal },
        );
        return ok(
          (out.Errors ?? []).map((e) => ({
            key: e.Key ?? '',
            code: e.Code ?? 'Unknown',
            message: e.Message ?? '',
          })),
        );
      } catch (error) {
        return err(fail(error, 'DeleteObjects', bucket, signal));
      }
    },
  };
}
