// The object operations a content-addressed blob cache needs from S3 (one bucket): HEAD,
// a single PUT, a multipart upload (create, part, complete, abort) and a streamed GET;
// and their AWS SDK adapter. Every SDK exception becomes a CloudFailure; no throws.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { err, ok, type Result } from '../core/result.js';
import { toCloudFailure, type CloudFailure } from './aws-errors.js';
import { normalizeEtag } from './object-store.js';

/** One uploaded part, for CompleteMultipartUpload. */
export interface UploadedPart {
  readonly partNumber: number;
  /** Without quotes, lower case. */
  readonly etag: string;
}

export interface BlobObjects {
  /** The endpoint and bucket, for messages (never credentials). */
  readonly where: string;
  /** The object's size, or undefined when there is none. */
  head(
    key: string,
    signal: AbortSignal,
  ): Promise<Result<{ size: number } | undefined, CloudFailure>>;
  /** One PUT with Content-MD5 (the server checks the body). */
  put(
    key: string,
    body: Uint8Array,
    md5Base64: string,
    signal: AbortSignal,
  ): Promise<Result<void, CloudFailure>>;
  startUpload(key: string, signal: AbortSignal): Promise<Result<string, CloudFailure>>;
  /** One part with Content-MD5; returns its ETag. */
  putPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    md5Base64: string,
    signal: AbortSignal,
  ): Promise<Result<string, CloudFailure>>;
  completeUpload(
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
    signal: AbortSignal,
  ): Promise<Result<void, CloudFailure>>;
  /** Drops the upload's parts; ok when it is already gone. */
  abortUpload(
    key: string,
    uploadId: string,
    signal: AbortSignal,
  ): Promise<Result<void, CloudFailure>>;
  /** The object's bytes as a stream. */
  get(key: string, signal: AbortSignal): Promise<Result<Readable, CloudFailure>>;
}

/** BlobObjects over an @aws-sdk/client-s3 client, in `bucket`. */
export function sdkBlobObjects(s3: S3Client, endpoint: string, bucket: string): BlobObjects {
  const fail = (
    error: unknown,
    operation: string,
    key: string,
    signal: AbortSignal,
  ): CloudFailure =>
    toCloudFailure(error, {
      endpoint,
      service: 's3',
      operation,
      subject: `${bucket}/${key}`,
      signal,
    });
  const call = async <T>(
    operation: string,
    key: string,
    signal: AbortSignal,
    send: () => Promise<T>,
  ): Promise<Result<T, CloudFailure>> => {
    try {
      return ok(await send());
    } catch (error) {
      return err(fail(error, operation, key, signal));
    }
  };
  return {
    where: `${endpoint} bucket ${bucket}`,
    async head(key, signal) {
      const r = await call('HeadObject', key, signal, () =>
        s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      if (r.ok) return ok({ size: r.value.ContentLength ?? 0 });
      return r.error.reason === 'not-found' ? ok(undefined) : r;
    },
    async put(key, body, md5Base64, signal) {
      const r = await call('PutObject', key, signal, () =>
        s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: md5Base64 }),
          {
            abortSignal: signal,
          },
        ),
      );
      return r.ok ? ok(undefined) : r;
    },
    async startUpload(key, signal) {
      const r = await call('CreateMultipartUpload', key, signal, () =>
        s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        }),
      );
      if (!r.ok) return r;
      const id = r.value.UploadId;
      return id === undefined || id === ''
        ? err(
            fail(
              new Error('the server returned no UploadId'),
              'CreateMultipartUpload',
              key,
              signal,
            ),
          )
        : ok(id);
    },
    async putPart(key, uploadId, partNumber, body, md5Base64, signal) {
      const r = await call('UploadPart', key, signal, () =>
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentMD5: md5Base64,
          }),
          { abortSignal: signal },
        ),
      );
      return r.ok ? ok(normalizeEtag(r.value.ETag)) : r;
    },
    async completeUpload(key, uploadId, parts, signal) {
      const r = await call('CompleteMultipartUpload', key, signal, () =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })),
            },
          }),
          { abortSignal: signal },
        ),
      );
      return r.ok ? ok(undefined) : r;
    },
    async abortUpload(key, uploadId, signal) {
      const r = await call('AbortMultipartUpload', key, signal, () =>
        s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), {
          abortSignal: signal,
        }),
      );
      return r.ok || r.error.reason === 'not-found' ? ok(undefined) : r;
    },
    async get(key, signal) {
      const r = await call('GetObject', key, signal, () =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      if (!r.ok) return r;
      const body = r.value.Body as Readable | undefined;
      return body === undefined
        ? err(fail(new Error('the server returned no body'), 'GetObject', key, signal))
        : ok(body);
    },
  };
}
