// The local cloud's S3 REST subset: buckets (list, create, head, delete, location, list
// objects v1/v2, DeleteObjects), objects (put incl. aws-chunked and conditional, get with
// ranges and conditions, head, delete, ACL), multipart uploads, SigV4 or SigV2 on every
// request (s3-auth.ts). Enough for @aws-sdk/client-s3, awscli, s3cmd and euca2ools. Here:
// path decoding, authentication and one handler per operation; which operation is
// s3-route.ts's, the handlers are in s3-buckets.ts, s3-objects.ts, s3-list.ts,
// s3-multipart.ts and s3-delete-objects.ts, storage in bucket-store.ts/multipart-store.ts.
import { getObject, putObject, deleteObject, getObjectAcl, putObjectAcl } from './s3-objects.js';
import {
  createBucket,
  deleteBucket,
  getAbsentConfiguration,
  getBucketAcl,
  getBucketLocation,
  getBucketVersioning,
  getUnsupportedSubresource,
  headBucket,
  listBuckets,
  putBucketAcl,
  requireBucket,
} from './s3-buckets.js';
import { listObjects } from './s3-list.js';
import { deleteObjects } from './s3-delete-objects.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  uploadPart,
} from './s3-multipart.js';
import { listMultipartUploads, listParts } from './s3-multipart-list.js';
import { requestId, sendError, type S3ApiContext, type S3Request } from './s3-responses.js';
import { routeS3, type S3Call, type S3Operation } from './s3-route.js';
import { authenticateS3, isAnonymous } from './s3-auth.js';
import { parseQuery } from './query-string.js';

export type { S3ApiContext, S3Request } from './s3-responses.js';

type S3Handler = (s: S3Request, ctx: S3ApiContext, call: S3Call) => void | Promise<void>;

/** A bucket read that answers NoSuchBucket first when the bucket does not exist. */
const onBucket =
  (handler: S3Handler): S3Handler =>
  (s, ctx, call) =>
    requireBucket(s, ctx, call) ? handler(s, ctx, call) : undefined;

const notImplemented =
  (what: string): S3Handler =>
  (s, _ctx, call) => {
    sendError(
      s,
      501,
      'NotImplemented',
      `${call.method} on ${what} is not implemented by the local cloud.`,
      call.id,
    );
  };

/** GET and HEAD only; anything else routed to get-object is a routing bug. */
function readMethod(call: S3Call): 'GET' | 'HEAD' {
  if (call.method === 'GET' || call.method === 'HEAD') return call.method;
  throw new Error(`routeS3 sent ${call.method} to an object read`);
}

/** One handler per operation; routeS3 picks the key. */
const HANDLERS: Readonly<Record<S3Operation, S3Handler>> = {
  'list-buckets': listBuckets,
  'service-method-not-allowed': (s, _ctx, call) => {
    sendError(
      s,
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      call.id,
    );
  },
  'multipart-method-not-allowed': (s, _ctx, call) => {
    sendError(
      s,
      405,
      'MethodNotAllowed',
      `${call.method} is not allowed with ?uploads or ?uploadId on this resource.`,
      call.id,
    );
  },
  'create-multipart-upload': onBucket(createMultipartUpload),
  'upload-part': uploadPart,
  'complete-multipart-upload': completeMultipartUpload,
  'abort-multipart-upload': abortMultipartUpload,
  'list-parts': listParts,
  'list-multipart-uploads': onBucket(listMultipartUploads),
  'delete-objects': onBucket(deleteObjects),
  'head-bucket': onBucket(headBucket),
  'get-bucket-location': onBucket(getBucketLocation),
  'get-bucket-acl': onBucket(getBucketAcl),
  'get-bucket-versioning': onBucket(getBucketVersioning),
  'get-absent-bucket-configuration': onBucket(getAbsentConfiguration),
  'get-unsupported-bucket-subresource': onBucket(getUnsupportedSubresource),
  'list-objects': onBucket((s, ctx, call) => {
    listObjects(s, ctx, call.bucket, call.query, call.id);
  }),
  'put-bucket-acl': putBucketAcl,
  'create-bucket': createBucket,
  'delete-bucket': deleteBucket,
  'bucket-method-not-implemented': notImplemented('a bucket'),
  'put-object-acl': putObjectAcl,
  'put-object': (s, ctx, call) => putObject(s, ctx, call.caller, call.bucket, call.key, call.id),
  'get-object-acl': getObjectAcl,
  'get-object': (s, ctx, call) => {
    getObject(s, ctx, call.bucket, call.key, call.id, readMethod(call));
  },
  'delete-object': deleteObject,
  'object-method-not-implemented': notImplemented('an object'),
};

/** The bucket and key decoded from the path, or undefined when a `%` escape is malformed. */
function decodePath(routePath: string): [string, string] | undefined {
  const segments = routePath.replace(/^\/+/, '');
  const slash = segments.indexOf('/');
  const parts = slash < 0 ? [segments, ''] : [segments.slice(0, slash), segments.slice(slash + 1)];
  try {
    return [decodeURIComponent(parts[0] ?? ''), decodeURIComponent(parts[1] ?? '')];
  } catch {
    return undefined;
  }
}

/**
 * The answer to a request whose signature did not verify: an anonymous GET or HEAD of a
 * public-read object is served, as S3 does; anything else gets the auth error (400 for
 * a malformed request, else 403).
 */
function answerUnauthenticated(
  s: S3Request,
  ctx: S3ApiContext,
  request: { bucket: string; key: string; id: string; error: { code: string; message: string } },
): void {
  const { bucket, key, id, error } = request;
  const method = s.req.method ?? 'GET';
  const object = bucket !== '' && key !== '' ? ctx.store.head(bucket, key) : undefined;
  if (
    isAnonymous(s) &&
    (method === 'GET' || method === 'HEAD') &&
    object?.ok === true &&
    object.value.acl.startsWith('public-read')
  ) {
    getObject(s, ctx, bucket, key, id, method);
    return;
  }
  const status =
    error.code === 'InvalidRequest' || error.code === 'AuthorizationQueryParametersError'
      ? 400
      : 403;
  sendError(s, status, error.code, error.message, id);
}

/** Serves one S3 request. Never throws: every problem is an S3 error response. */
export async function handleS3(s: S3Request, ctx: S3ApiContext): Promise<void> {
  const id = requestId();
  const path = decodePath(s.routePath);
  if (path === undefined) {
    sendError(
      s,
      400,
      'InvalidURI',
      "Couldn't parse the specified URI: a '%' escape is malformed.",
      id,
    );
    return;
  }
  const [bucket, key] = path;
  const auth = await authenticateS3(s, ctx);
  if (!auth.ok) {
    answerUnauthenticated(s, ctx, { bucket, key, id, error: auth.error });
    return;
  }
  const method = s.req.method ?? 'GET';
  const query = new Map(parseQuery(s.rawQuery));
  const call: S3Call = {
    id,
    method,
    bucket,
    key,
    query,
    account: ctx.accountFor(auth.value.accessKeyId),
    caller: auth.value,
  };
  await HANDLERS[routeS3({ method, bucket, key, query })](s, ctx, call);
}
