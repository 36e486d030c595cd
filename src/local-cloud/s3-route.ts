// Which S3 operation a request asks for, from its method, bucket, key and query alone:
// the local cloud's dispatch table in one pure function (s3-api.ts runs the handler).
// No I/O, no authentication, no bucket lookups.
import type { S3Caller } from './s3-auth.js';

/** Every S3 operation the local cloud answers, including the ones it refuses. */
export type S3Operation =
  | 'list-buckets'
  | 'service-method-not-allowed'
  | 'multipart-method-not-allowed'
  | 'create-multipart-upload'
  | 'upload-part'
  | 'complete-multipart-upload'
  | 'abort-multipart-upload'
  | 'list-parts'
  | 'list-multipart-uploads'
  | 'delete-objects'
  | 'head-bucket'
  | 'get-bucket-location'
  | 'get-bucket-acl'
  | 'get-bucket-versioning'
  | 'get-absent-bucket-configuration'
  | 'get-unsupported-bucket-subresource'
  | 'list-objects'
  | 'put-bucket-acl'
  | 'create-bucket'
  | 'delete-bucket'
  | 'bucket-method-not-implemented'
  | 'put-object-acl'
  | 'put-object'
  | 'get-object-acl'
  | 'get-object'
  | 'delete-object'
  | 'object-method-not-implemented';

/** An authenticated, routed S3 request: what every operation handler gets. */
export interface S3Call {
  /** The request id sent back in `x-amz-request-id` and error documents. */
  readonly id: string;
  readonly method: string;
  /** Decoded bucket name; '' for the service (list buckets). */
  readonly bucket: string;
  /** Decoded object key; '' for the bucket itself. */
  readonly key: string;
  readonly query: ReadonlyMap<string, string>;
  /** The account owning the caller's access key. */
  readonly account: string;
  readonly caller: S3Caller;
}

/** Bucket sub-resources that simply do not exist here (clients such as s3cmd ask for them). */
const ABSENT_CONFIGURATIONS = new Map([
  ['policy', 'NoSuchBucketPolicy'],
  ['cors', 'NoSuchCORSConfiguration'],
  ['lifecycle', 'NoSuchLifecycleConfiguration'],
  ['website', 'NoSuchWebsiteConfiguration'],
  ['tagging', 'NoSuchTagSet'],
  ['encryption', 'ServerSideEncryptionConfigurationNotFoundError'],
]);
const UNSUPPORTED_SUBRESOURCES = [
  'logging',
  'notification',
  'replication',
  'requestPayment',
  'versions',
  'object-lock',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
];

/** The first absent bucket configuration the query asks for: [sub-resource, S3 error code]. */
export function absentConfiguration(
  query: ReadonlyMap<string, string>,
): readonly [string, string] | undefined {
  return [...ABSENT_CONFIGURATIONS].find(([name]) => query.has(name));
}

/** The first bucket sub-resource the query asks for that the local cloud does not implement. */
export function unsupportedSubresource(query: ReadonlyMap<string, string>): string | undefined {
  return UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
}

function routeBucketRead(query: ReadonlyMap<string, string>): S3Operation {
  if (query.has('location')) return 'get-bucket-location';
  if (query.has('acl')) return 'get-bucket-acl';
  if (query.has('versioning')) return 'get-bucket-versioning';
  if (absentConfiguration(query)) return 'get-absent-bucket-configuration';
  if (unsupportedSubresource(query) !== undefined) return 'get-unsupported-bucket-subresource';
  return 'list-objects';
}

function routeBucket(method: string, query: ReadonlyMap<string, string>): S3Operation {
  switch (method) {
    case 'HEAD':
      return 'head-bucket';
    case 'GET':
      return routeBucketRead(query);
    case 'PUT':
      return query.has('acl') ? 'put-bucket-acl' : 'create-bucket';
    case 'DELETE':
      return 'delete-bucket';
    case 'POST':
      return query.has('delete') ? 'delete-objects' : 'bucket-method-not-implemented';
    default:
      return 'bucket-method-not-implemented';
  }
}

function routeObject(method: string, query: ReadonlyMap<string, string>): S3Operation {
  switch (method) {
    case 'PUT':
      return query.has('acl') ? 'put-object-acl' : 'put-object';
    case 'GET':
    case 'HEAD':
      return query.has('acl') ? 'get-object-acl' : 'get-object';
    case 'DELETE':
      return 'delete-object';
    default:
      return 'object-method-not-implemented';
  }
}

/** A multipart request (`?uploads` or `?uploadId` present) by method and target. */
function routeMultipart(
  method: string,
  key: string,
  query: ReadonlyMap<string, string>,
): S3Operation {
  if (key === '')
    return method === 'GET' && query.has('uploads')
      ? 'list-multipart-uploads'
      : 'multipart-method-not-allowed';
  if (query.has('uploadId')) {
    switch (method) {
      case 'PUT':
        return 'upload-part';
      case 'POST':
        return 'complete-multipart-upload';
      case 'DELETE':
        return 'abort-multipart-upload';
      case 'GET':
        return 'list-parts';
      default:
        return 'multipart-method-not-allowed';
    }
  }
  return method === 'POST' ? 'create-multipart-upload' : 'multipart-method-not-allowed';
}

/**
 * The operation for `method` on `bucket`/`key` with `query`. In this order: the service
 * (bucket '') answers GET only; any multipart request (`?uploads`, `?uploadId`) goes by
 * routeMultipart (a HEAD on a bucket excepted); then bucket operations (key '') and
 * object operations by method and sub-resource. A HEAD on a bucket ignores the query.
 */
export function routeS3(request: {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly query: ReadonlyMap<string, string>;
}): S3Operation {
  const { method, bucket, key, query } = request;
  if (bucket === '') return method === 'GET' ? 'list-buckets' : 'service-method-not-allowed';
  const isHeadBucket = method === 'HEAD' && key === '';
  if (!isHeadBucket && (query.has('uploads') || query.has('uploadId')))
    return routeMultipart(method, key, query);
  return key === '' ? routeBucket(method, query) : routeObject(method, query);
}
