// CasObjects over the AWS SDK's S3 client: GetObject, PutObject with IfNoneMatch/IfMatch,
// DeleteObject, on one bucket. The client comes configured from cloud/clients.ts (path
// style and checksums only when required for servers other than AWS). Errors become
// facts: 412 (and AWS's 409 ConditionalRequestConflict) a lost condition, the rest io.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { err, ok } from '../core/result.js';
import { describeCloudFailure, errorFacts, toCloudFailure } from '../cloud/aws-errors.js';
import type { CasObjects, ObjectIoFailure } from './cas-objects.js';

function ioFailure(
  error: unknown,
  context: { server: string; operation: string; key: string; signal: AbortSignal },
): ObjectIoFailure {
  const facts = errorFacts(error);
  const failure = toCloudFailure(error, {
    endpoint: context.server,
    service: 's3',
    operation: context.operation,
    subject: context.key,
    signal: context.signal,
  });
  return {
    reason: 'io',
    ...(facts.httpStatus !== undefined ? { status: facts.httpStatus } : {}),
    detail: describeCloudFailure(failure),
  };
}

/** The condition's failure: 412, or AWS's 409 for a conditional write racing another. */
function isConditionFailure(error: unknown): boolean {
  const { httpStatus, code } = errorFacts(error);
  return (
    httpStatus === 412 ||
    code === 'PreconditionFailed' ||
    (httpStatus === 409 && code === 'ConditionalRequestConflict')
  );
}

/** CasObjects on `bucket` through `s3`; `server` names the endpoint in messages. */
export function sdkCasObjects(s3: S3Client, bucket: string, server: string): CasObjects {
  return {
    server,
    get: async (key, signal) => {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        const body = (await out.Body?.transformToString('utf8')) ?? '';
        return ok({ body, etag: out.ETag ?? '' });
      } catch (error) {
        const { httpStatus, code } = errorFacts(error);
        // A missing bucket is not an empty state: say so (the 404 of NoSuchBucket).
        if (code === 'NoSuchKey' || (httpStatus === 404 && code !== 'NoSuchBucket'))
          return ok(undefined);
        return err(ioFailure(error, { server, operation: 'GetObject', key, signal }));
      }
    },
    put: async (key, body, condition, signal) => {
      try {
        const out = await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ...('ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : {}),
            ...('ifMatch' in condition ? { IfMatch: quoted(condition.ifMatch) } : {}),
          }),
          { abortSignal: signal },
        );
        return ok({ etag: out.ETag ?? '' });
      } catch (error) {
        if (isConditionFailure(error)) return err({ reason: 'precondition-failed' as const });
        // If-Match on a key that is gone: 404 NoSuchKey (S3 and the embedded cloud).
        const { httpStatus, code } = errorFacts(error);
        if ('ifMatch' in condition && (httpStatus === 404 || code === 'NoSuchKey'))
          return err({ reason: 'precondition-failed' as const });
        return err(ioFailure(error, { server, operation: 'PutObject', key, signal }));
      }
    },
    remove: async (key, signal) => {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        return ok(undefined);
      } catch (error) {
        const { httpStatus, code } = errorFacts(error);
        if (httpStatus === 404 || code === 'NoSuchKey') return ok(undefined);
        return err(ioFailure(error, { server, operation: 'DeleteObject', key, signal }));
      }
    },
  };
}

/** An ETag as HTTP sends it, in double quotes (kept verbatim otherwise: If-Match compares exactly). */
function quoted(etag: string): string {
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}
