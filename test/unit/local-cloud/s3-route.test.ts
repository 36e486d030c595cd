// The local cloud's S3 dispatch table: which operation each method, path and query gets,
// including the precedence rules (service first, multipart before anything but a HEAD of a
// bucket).
import { describe, expect, test } from '@jest/globals';
import {
  absentConfiguration,
  routeS3,
  unsupportedSubresource,
  type S3Operation,
} from '../../../src/local-cloud/s3-route.js';

const route = (method: string, path: string, query = ''): S3Operation => {
  const slash = path.indexOf('/');
  const [bucket, key] = slash < 0 ? [path, ''] : [path.slice(0, slash), path.slice(slash + 1)];
  const pairs = query === '' ? [] : query.split('&').map((p) => [...p.split('='), ''].slice(0, 2));
  return routeS3({
    method,
    bucket,
    key,
    query: new Map(pairs.map(([k, v]) => [k ?? '', v ?? ''])),
  });
};

describe('routeS3', () => {
  test.each<[string, string, string, S3Operation]>([
    ['GET', '', '', 'list-buckets'],
    ['GET', '', 'uploads', 'list-buckets'],
    ['PUT', '', '', 'service-method-not-allowed'],
    ['DELETE', '', '', 'service-method-not-allowed'],
    ['HEAD', '', '', 'service-method-not-allowed'],
    ['GET', 'b', 'uploads', 'list-multipart-uploads'],
    ['GET', 'b', 'uploads&prefix=a', 'list-multipart-uploads'],
    ['PUT', 'b', 'uploads', 'multipart-method-not-allowed'],
    ['POST', 'b', 'uploadId=x', 'multipart-method-not-allowed'],
    ['HEAD', 'b', 'uploads', 'head-bucket'],
    ['POST', 'b/k', 'uploads', 'create-multipart-upload'],
    ['GET', 'b/k', 'uploads', 'multipart-method-not-allowed'],
    ['PUT', 'b/k', 'partNumber=1&uploadId=x', 'upload-part'],
    ['POST', 'b/k', 'uploadId=x', 'complete-multipart-upload'],
    ['DELETE', 'b/k', 'uploadId=x', 'abort-multipart-upload'],
    ['GET', 'b/k', 'uploadId=x', 'list-parts'],
    ['GET', 'b/k', 'uploadId=x&max-parts=2', 'list-parts'],
    ['HEAD', 'b/k', 'uploadId=x', 'multipart-method-not-allowed'],
    ['PUT', 'b/k', 'uploadId=x&acl', 'upload-part'],
    ['POST', 'b', 'delete', 'delete-objects'],
    ['DELETE', 'b', 'delete', 'delete-bucket'],
    ['HEAD', 'b', '', 'head-bucket'],
    ['HEAD', 'b', 'location', 'head-bucket'],
    ['GET', 'b', 'location', 'get-bucket-location'],
    ['GET', 'b', 'acl', 'get-bucket-acl'],
    ['GET', 'b', 'location&acl', 'get-bucket-location'],
    ['GET', 'b', 'versioning', 'get-bucket-versioning'],
    ['GET', 'b', 'policy', 'get-absent-bucket-configuration'],
    ['GET', 'b', 'encryption', 'get-absent-bucket-configuration'],
    ['GET', 'b', 'logging', 'get-unsupported-bucket-subresource'],
    ['GET', 'b', 'versions', 'get-unsupported-bucket-subresource'],
    ['GET', 'b', 'cors&logging', 'get-absent-bucket-configuration'],
    ['GET', 'b', '', 'list-objects'],
    ['GET', 'b', 'list-type=2&prefix=a', 'list-objects'],
    ['PUT', 'b', '', 'create-bucket'],
    ['PUT', 'b', 'acl', 'put-bucket-acl'],
    ['DELETE', 'b', '', 'delete-bucket'],
    ['POST', 'b', '', 'bucket-method-not-implemented'],
    ['PATCH', 'b', 'acl', 'bucket-method-not-implemented'],
    ['PUT', 'b/k', '', 'put-object'],
    ['PUT', 'b/dir/k', 'acl', 'put-object-acl'],
    ['GET', 'b/k', '', 'get-object'],
    ['HEAD', 'b/k', '', 'get-object'],
    ['GET', 'b/k', 'acl', 'get-object-acl'],
    ['HEAD', 'b/k', 'acl', 'get-object-acl'],
    ['GET', 'b/k', 'location', 'get-object'],
    ['DELETE', 'b/k', '', 'delete-object'],
    ['DELETE', 'b/k', 'acl', 'delete-object'],
    ['POST', 'b/k', '', 'object-method-not-implemented'],
  ])('%s /%s?%s is %s', (method, path, query, operation) => {
    expect(route(method, path, query)).toBe(operation);
  });
});

describe('bucket sub-resources', () => {
  test('an absent configuration comes with its S3 error code', () => {
    expect(absentConfiguration(new Map([['tagging', '']]))).toEqual(['tagging', 'NoSuchTagSet']);
    expect(absentConfiguration(new Map([['acl', '']]))).toBeUndefined();
  });

  test('an unsupported sub-resource is named', () => {
    expect(unsupportedSubresource(new Map([['publicAccessBlock', '']]))).toBe('publicAccessBlock');
    expect(unsupportedSubresource(new Map([['policy', '']]))).toBeUndefined();
  });
});
