// The local cloud's S3 REST subset: buckets (list, create, head, delete, location, list
// objects v1/v2), objects (put incl. aws-chunked, get with ranges, head, delete, ACL),
// SigV4 or SigV2 on every request (s3-auth.ts). Enough for @aws-sdk/client-s3, awscli,
// s3cmd and euca2ools; multipart uploads are answered NotImplemented. Routing and buckets here; objects in s3-objects.ts,
// listings in s3-list.ts, responses in s3-responses.ts, storage in bucket-store.ts.
import { getObject, putObject } from './s3-objects.js';
import { listObjects } from './s3-list.js';
import {
  S3_NS,
  grantsFor,
  header,
  requestId,
  sendError,
  sendStoreError,
  sendXml,
  type S3ApiContext,
  type S3Request,
} from './s3-responses.js';
import { bucketNameProblem } from './bucket-name.js';
import { authenticateS3, isAnonymous } from './s3-auth.js';
import { parseQuery } from './sigv4.js';
import { xmlDocument, type XmlNode } from './xml.js';

export type { S3ApiContext, S3Request } from './s3-responses.js';

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
  'uploads',
  'versions',
  'object-lock',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'ownershipControls',
  'publicAccessBlock',
];
/** The bucket and key decoded from the path, or undefined when a `%` escape is malformed. */
function decodePath(parts: [string, string]): [string, string] | undefined {
  try {
    return [decodeURIComponent(parts[0]), decodeURIComponent(parts[1])];
  } catch {
    return undefined;
  }
}

/** Serves one S3 request. Never throws: every problem is an S3 error response. */
export async function handleS3(s: S3Request, ctx: S3ApiContext): Promise<void> {
  const id = requestId();
  const method = s.req.method ?? 'GET';
  const pairs = parseQuery(s.rawQuery);
  const query = new Map(pairs);
  const segments = s.routePath.replace(/^\/+/, '');
  const slash = segments.indexOf('/');
  const path = decodePath(
    slash < 0 ? [segments, ''] : [segments.slice(0, slash), segments.slice(slash + 1)],
  );
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
    // Anonymous reads of public-read objects are allowed, as S3 does.
    const anonymous = isAnonymous(s);
    const object = bucket !== '' && key !== '' ? ctx.store.head(bucket, key) : undefined;
    if (
      anonymous &&
      (method === 'GET' || method === 'HEAD') &&
      object?.ok === true &&
      object.value.acl.startsWith('public-read')
    ) {
      getObject(s, ctx, bucket, key, id, method);
      return;
    }
    const status =
      auth.error.code === 'InvalidRequest' ||
      auth.error.code === 'AuthorizationQueryParametersError'
        ? 400
        : 403;
    sendError(s, status, auth.error.code, auth.error.message, id);
    return;
  }
  const account = ctx.accountFor(auth.value.accessKeyId);
  if (bucket === '') {
    if (method !== 'GET') {
      sendError(
        s,
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        id,
      );
      return;
    }
    const body = xmlDocument('ListAllMyBucketsResult', S3_NS, [
      [
        'Owner',
        [
          ['ID', account],
          ['DisplayName', account],
        ],
      ],
      [
        'Buckets',
        ctx.store.listBuckets().map((b): XmlNode => [
          'Bucket',
          [
            ['Name', b.name],
            ['CreationDate', b.created],
          ],
        ]),
      ],
    ]);
    sendXml(s.res, 200, body, id);
    return;
  }
  if (query.has('uploads') || query.has('uploadId')) {
    sendError(
      s,
      501,
      'NotImplemented',
      'Multipart uploads are not implemented by the local cloud; PUT objects whole.',
      id,
    );
    return;
  }
  if (key === '') {
    switch (method) {
      case 'HEAD':
      case 'GET': {
        if (!ctx.store.bucket(bucket)) {
          sendStoreError(s, { code: 'NoSuchBucket' }, id, `/${bucket}`);
          return;
        }
        if (method === 'HEAD') {
          s.res.writeHead(200, { 'x-amz-request-id': id, 'x-amz-bucket-region': ctx.region });
          s.res.end();
        } else if (query.has('location')) {
          sendXml(s.res, 200, xmlDocument('LocationConstraint', S3_NS, []), id);
        } else if (query.has('acl')) {
          const bucketMeta = ctx.store.bucket(bucket);
          sendXml(
            s.res,
            200,
            xmlDocument('AccessControlPolicy', S3_NS, [
              [
                'Owner',
                [
                  ['ID', account],
                  ['DisplayName', account],
                ],
              ],
              ['AccessControlList', grantsFor(bucketMeta?.acl ?? 'private', account)],
            ]),
            id,
          );
        } else if (query.has('versioning')) {
          sendXml(s.res, 200, xmlDocument('VersioningConfiguration', S3_NS, []), id);
        } else {
          const absent = [...ABSENT_CONFIGURATIONS].find(([name]) => query.has(name));
          const unsupported = UNSUPPORTED_SUBRESOURCES.find((name) => query.has(name));
          if (absent)
            sendError(s, 404, absent[1], `The bucket has no ${absent[0]} configuration.`, id);
          else if (unsupported !== undefined)
            sendError(
              s,
              501,
              'NotImplemented',
              `?${unsupported} is not implemented by the local cloud.`,
              id,
            );
          else listObjects(s, ctx, bucket, query, id);
        }
        return;
      }
      case 'PUT': {
        s.req.resume();
        if (query.has('acl')) {
          s.res.writeHead(200, { 'x-amz-request-id': id, 'content-length': 0 });
          s.res.end();
          return;
        }
        const problem = bucketNameProblem(bucket);
        if (problem !== undefined) {
          sendError(
            s,
            400,
            'InvalidBucketName',
            `The specified bucket is not valid: '${bucket}': ${problem}.`,
            id,
          );
          return;
        }
        const created = await ctx.store.createBucket(
          bucket,
          account,
          header(s.req, 'x-amz-acl') ?? 'private',
        );
        if (!created.ok) {
          sendStoreError(s, created.error, id, `/${bucket}`);
          return;
        }
        s.res.writeHead(200, {
          location: `/${bucket}`,
          'x-amz-request-id': id,
          'content-length': 0,
        });
        s.res.end();
        return;
      }
      case 'DELETE': {
        const deleted = await ctx.store.deleteBucket(bucket);
        if (!deleted.ok) {
          sendStoreError(s, deleted.error, id, `/${bucket}`);
          return;
        }
        s.res.writeHead(204, { 'x-amz-request-id': id });
        s.res.end();
        return;
      }
      default:
        sendError(
          s,
          501,
          'NotImplemented',
          `${method} on a bucket is not implemented by the local cloud.`,
          id,
        );
        return;
    }
  }
  switch (method) {
    case 'PUT':
      if (query.has('acl')) {
        s.req.resume();
        const acl = header(s.req, 'x-amz-acl') ?? 'private';
        const set = await ctx.store.setAcl(bucket, key, acl);
        if (!set.ok) sendStoreError(s, set.error, id, `/${bucket}/${key}`);
        else {
          s.res.writeHead(200, { 'x-amz-request-id': id, 'content-length': 0 });
          s.res.end();
        }
        return;
      }
      await putObject(s, ctx, auth.value, bucket, key, id);
      return;
    case 'GET':
    case 'HEAD':
      if (query.has('acl')) {
        const found = ctx.store.head(bucket, key);
        if (!found.ok) {
          sendStoreError(s, found.error, id, `/${bucket}/${key}`);
          return;
        }
        sendXml(
          s.res,
          200,
          xmlDocument('AccessControlPolicy', S3_NS, [
            [
              'Owner',
              [
                ['ID', found.value.owner],
                ['DisplayName', found.value.owner],
              ],
            ],
            ['AccessControlList', grantsFor(found.value.acl, found.value.owner)],
          ]),
          id,
          { 'x-emi-canned-acl': found.value.acl },
        );
        return;
      }
      getObject(s, ctx, bucket, key, id, method);
      return;
    case 'DELETE': {
      const deleted = await ctx.store.delete(bucket, key);
      if (!deleted.ok) {
        sendStoreError(s, deleted.error, id, `/${bucket}/${key}`);
        return;
      }
      s.res.writeHead(204, { 'x-amz-request-id': id });
      s.res.end();
      return;
    }
    default:
      sendError(
        s,
        501,
        'NotImplemented',
        `${method} on an object is not implemented by the local cloud.`,
        id,
      );
  }
}
