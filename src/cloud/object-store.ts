// The narrow port the upload and cleanup code needs from S3, and its AWS SDK adapter.
// Every SDK exception becomes a CloudFailure here; callers never see a throw.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ObjectCannedACL,
  type S3Client,
} from '@aws-sdk/client-s3';
import { err, ok, type Result } from '../core/result.js';
import { toCloudFailure, type CloudFailure } from './aws-errors.js';

/** The canned ACLs euca-upload-bundle offers (spec §3); `aws-exec-read` is its default. */
export const BUNDLE_ACLS = ['aws-exec-read', 'public-read', 'ec2-bundle-read'] as const;
export type BundleAcl = (typeof BUNDLE_ACLS)[number];

export interface StoredObject {
  /** ETag without quotes, lower case (the MD5 hex of a single-PUT object). */
  readonly etag: string;
  readonly size: number;
}

export interface PutObjectRequest {
  readonly bucket: string;
  readonly key: string;
  readonly body: Uint8Array;
  /** Lower-case hex MD5 of `body`; sent as Content-MD5 so that the server checks it too. */
  readonly md5Hex: string;
  readonly acl: BundleAcl;
}

/**
 * What publishing needs from an object store. Each call makes one logical request (the
 * adapter's SDK may retry it); failures are values.
 */
export interface ObjectStorePort {
  /** The endpoint, for messages. */
  readonly endpoint: string;
  /** ok(false) when the bucket does not exist; a failure when it cannot be told. */
  bucketExists(bucket: string, signal: AbortSignal): Promise<Result<boolean, CloudFailure>>;
  /** Creates the bucket; ok when it already exists and is ours. */
  createBucket(bucket: string, signal: AbortSignal): Promise<Result<void, CloudFailure>>;
  /** Every object under `prefix`, by key. */
  listObjects(
    bucket: string,
    prefix: string,
    signal: AbortSignal,
  ): Promise<Result<ReadonlyMap<string, StoredObject>, CloudFailure>>;
  /** Stores the object and returns its ETag (quotes stripped, lower case; '' if none). */
  putObject(
    request: PutObjectRequest,
    signal: AbortSignal,
  ): Promise<Result<{ etag: string }, CloudFailure>>;
  getObject(
    bucket: string,
    key: string,
    signal: AbortSignal,
  ): Promise<Result<Uint8Array, CloudFailure>>;
  /** Deletes the object; ok when it was already gone. */
  deleteObject(
    bucket: string,
    key: string,
    signal: AbortSignal,
  ): Promise<Result<void, CloudFailure>>;
}

/** `"abc"` -> `abc`, lower case. */
export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/** The ObjectStorePort over an @aws-sdk/client-s3 client. */
export function sdkObjectStore(s3: S3Client, endpoint: string): ObjectStorePort {
  const fail = (
    error: unknown,
    operation: string,
    subject: string,
    signal: AbortSignal,
  ): CloudFailure => toCloudFailure(error, { endpoint, service: 's3', operation, subject, signal });
  return {
    endpoint,
    async bucketExists(bucket, signal) {
      try {
        // GET ?max-keys=0 like euca-upload-bundle, not HEAD: a HEAD answer has no body,
        // so a wrong key would only say "403 Forbidden" instead of the error code.
        await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 0 }), {
          abortSignal: signal,
        });
        return ok(true);
      } catch (error) {
        const failure = fail(error, 'ListObjectsV2', bucket, signal);
        if (failure.reason === 'not-found') return ok(false);
        return err(failure);
      }
    },
    async createBucket(bucket, signal) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
        return ok(undefined);
      } catch (error) {
        const failure = fail(error, 'CreateBucket', bucket, signal);
        if (failure.code === 'BucketAlreadyOwnedByYou') return ok(undefined);
        if (failure.code === 'BucketAlreadyExists')
          return err({ ...failure, reason: 'access-denied' });
        return err(failure);
      }
    },
    async listObjects(bucket, prefix, signal) {
      const found = new Map<string, StoredObject>();
      let token: string | undefined;
      try {
        do {
          const page = await s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ...(token !== undefined ? { ContinuationToken: token } : {}),
            }),
            { abortSignal: signal },
          );
          for (const object of page.Contents ?? []) {
            if (object.Key !== undefined)
              found.set(object.Key, { etag: normalizeEtag(object.ETag), size: object.Size ?? 0 });
          }
          token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
        return ok(found);
      } catch (error) {
        return err(fail(error, 'ListObjectsV2', `${bucket}/${prefix}`, signal));
      }
    },
    async putObject(request, signal) {
      try {
        const out = await s3.send(
          new PutObjectCommand({
            Bucket: request.bucket,
            Key: request.key,
            Body: request.body,
            ContentLength: request.body.byteLength,
            ContentMD5: Buffer.from(request.md5Hex, 'hex').toString('base64'),
            ACL: request.acl as ObjectCannedACL,
          }),
          { abortSignal: signal },
        );
        return ok({ etag: normalizeEtag(out.ETag) });
      } catch (error) {
        return err(fail(error, 'PutObject', `${request.bucket}/${request.key}`, signal));
      }
    },
    async getObject(bucket, key, signal) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        if (out.Body === undefined) return ok(new Uint8Array());
        return ok(await out.Body.transformToByteArray());
      } catch (error) {
        return err(fail(error, 'GetObject', `${bucket}/${key}`, signal));
      }
    },
    async deleteObject(bucket, key, signal) {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        return ok(undefined);
      } catch (error) {
        const failure = fail(error, 'DeleteObject', `${bucket}/${key}`, signal);
        if (failure.reason === 'not-found' && failure.code === 'NoSuchKey') return ok(undefined);
        return err(failure);
      }
    },
  };
}
