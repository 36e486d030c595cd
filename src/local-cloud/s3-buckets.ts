// The local cloud's S3 service and bucket handlers: list buckets, head/create/delete a
// bucket, its location/ACL/versioning and the sub-resources it answers as absent or not
// implemented. s3-route.ts picks the handler; listings are s3-list.ts's.
import { bucketNameProblem } from './bucket-name.js';
import type { S3Call } from './s3-route.js';
import { absentConfiguration, unsupportedSubresource } from './s3-route.js';
import {
  S3_NS,
  grantsFor,
  header,
  sendError,
  sendStoreError,
  sendXml,
  type S3ApiContext,
  type S3Request,
} from './s3-responses.js';
import { xmlDocument, type XmlNode } from './xml.js';

/** GET on the service: the caller's account and every bucket. */
export function listBuckets(s: S3Request, ctx: S3ApiContext, call: S3Call): void {
  const body = xmlDocument('ListAllMyBucketsResult', S3_NS, [
    [
      'Owner',
      [
        ['ID', call.account],
        ['DisplayName', call.account],
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
  sendXml(s.res, 200, body, call.id);
}

/** True when the bucket exists; otherwise answers NoSuchBucket and returns false. */
export function requireBucket(s: S3Request, ctx: S3ApiContext, call: S3Call): boolean {
  if (ctx.store.bucket(call.bucket)) return true;
  sendStoreError(s, { code: 'NoSuchBucket' }, call.id, `/${call.bucket}`);
  return false;
}

export function headBucket(s: S3Request, ctx: S3ApiContext, call: S3Call): void {
  s.res.writeHead(200, { 'x-amz-request-id': call.id, 'x-amz-bucket-region': ctx.region });
  s.res.end();
}

export function getBucketLocation(s: S3Request, _ctx: S3ApiContext, call: S3Call): void {
  sendXml(s.res, 200, xmlDocument('LocationConstraint', S3_NS, []), call.id);
}

export function getBucketAcl(s: S3Request, ctx: S3ApiContext, call: S3Call): void {
  const bucketMeta = ctx.store.bucket(call.bucket);
  sendXml(
    s.res,
    200,
    xmlDocument('AccessControlPolicy', S3_NS, [
      [
        'Owner',
        [
          ['ID', call.account],
          ['DisplayName', call.account],
        ],
      ],
      ['AccessControlList', grantsFor(bucketMeta?.acl ?? 'private', call.account)],
    ]),
    call.id,
  );
}

export function getBucketVersioning(s: S3Request, _ctx: S3ApiContext, call: S3Call): void {
  sendXml(s.res, 200, xmlDocument('VersioningConfiguration', S3_NS, []), call.id);
}

/** A configuration the local cloud never has (policy, CORS…): 404 with S3's own code. */
export function getAbsentConfiguration(s: S3Request, _ctx: S3ApiContext, call: S3Call): void {
  const absent = absentConfiguration(call.query);
  if (absent === undefined) throw new Error('routeS3 chose an absent configuration without one');
  sendError(s, 404, absent[1], `The bucket has no ${absent[0]} configuration.`, call.id);
}

export function getUnsupportedSubresource(s: S3Request, _ctx: S3ApiContext, call: S3Call): void {
  const unsupported = unsupportedSubresource(call.query);
  if (unsupported === undefined)
    throw new Error('routeS3 chose an unsupported sub-resource without one');
  sendError(
    s,
    501,
    'NotImplemented',
    `?${unsupported} is not implemented by the local cloud.`,
    call.id,
  );
}

/** PUT ?acl on a bucket: accepted and ignored (buckets stay as created). */
export function putBucketAcl(s: S3Request, _ctx: S3ApiContext, call: S3Call): void {
  s.req.resume();
  s.res.writeHead(200, { 'x-amz-request-id': call.id, 'content-length': 0 });
  s.res.end();
}

export async function createBucket(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  s.req.resume();
  const { bucket, id } = call;
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
    call.account,
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
}

export async function deleteBucket(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  const deleted = await ctx.store.deleteBucket(call.bucket);
  if (!deleted.ok) {
    sendStoreError(s, deleted.error, call.id, `/${call.bucket}`);
    return;
  }
  s.res.writeHead(204, { 'x-amz-request-id': call.id });
  s.res.end();
}
