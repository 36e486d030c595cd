// The local cloud's S3 object handlers: PUT (plain or aws-chunked, digests checked by the
// store; If-None-Match: * and If-Match), GET with ranges and HEAD (conditional: 304/412),
// DELETE, and the object's ACL (GET/PUT ?acl).
// Routing is s3-route.ts's, auth s3-auth.ts's.
import type { ObjectMeta } from './bucket-store.js';
import type { S3Caller } from './s3-auth.js';
import type { S3Call } from './s3-route.js';
import { announcedBody, requestWriteCondition } from './s3-body.js';
import { evaluateReadConditions } from './s3-conditions.js';
import { unreachable } from '../core/unreachable.js';
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
import { xmlDocument } from './xml.js';

export const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'ec2-bundle-read',
  'log-delivery-write',
]);
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

function objectHeaders(meta: ObjectMeta, id: string): Record<string, string> {
  return {
    etag: `"${meta.etag}"`,
    'last-modified': new Date(meta.lastModified).toUTCString(),
    'content-type': meta.contentType,
    'accept-ranges': 'bytes',
    'x-amz-request-id': id,
  };
}

export async function putObject(
  s: S3Request,
  ctx: S3ApiContext,
  auth: S3Caller,
  bucket: string,
  key: string,
  id: string,
): Promise<void> {
  const resource = `/${bucket}/${key}`;
  const acl = header(s.req, 'x-amz-acl') ?? 'private';
  if (!CANNED_ACLS.has(acl)) {
    sendError(s, 400, 'InvalidArgument', `Unknown canned ACL '${acl}'.`, id, resource);
    return;
  }
  if (header(s.req, 'x-amz-copy-source') !== undefined) {
    sendError(s, 501, 'NotImplemented', 'CopyObject is not implemented by the local cloud.', id);
    return;
  }
  const condition = requestWriteCondition(s, id);
  if (!condition.ok) return;
  const body = announcedBody(s, auth, { maxSize: ctx.maxObjectSize, id, resource });
  if (body === undefined) return;
  const stored = await ctx.store.put(bucket, key, body.stream, {
    owner: ctx.accountFor(auth.accessKeyId),
    acl,
    contentType: header(s.req, 'content-type') ?? 'binary/octet-stream',
    ...body.expect,
    ...(condition.value !== undefined ? { condition: condition.value } : {}),
  });
  if (!stored.ok) {
    sendStoreError(s, stored.error, id, resource);
    return;
  }
  s.res.writeHead(200, {
    etag: `"${stored.value.etag}"`,
    'x-amz-request-id': id,
    'content-length': 0,
  });
  s.res.end();
}

/** Answers a GET or HEAD whose conditions did not hold (304 or 412); false when they held. */
function answeredConditions(
  s: S3Request,
  meta: ObjectMeta,
  request: { readonly id: string; readonly resource: string },
): boolean {
  const { id, resource } = request;
  const decision = evaluateReadConditions(meta, {
    ifMatch: header(s.req, 'if-match'),
    ifNoneMatch: header(s.req, 'if-none-match'),
    ifModifiedSince: header(s.req, 'if-modified-since'),
    ifUnmodifiedSince: header(s.req, 'if-unmodified-since'),
  });
  switch (decision.kind) {
    case 'proceed':
      return false;
    case 'not-modified':
      s.res.writeHead(304, {
        etag: `"${meta.etag}"`,
        'last-modified': new Date(meta.lastModified).toUTCString(),
        'x-amz-request-id': id,
      });
      s.res.end();
      return true;
    case 'precondition-failed':
      sendStoreError(
        s,
        { code: 'PreconditionFailed', condition: decision.condition },
        id,
        resource,
      );
      return true;
    default:
      return unreachable(decision);
  }
}

export function getObject(
  s: S3Request,
  ctx: S3ApiContext,
  bucket: string,
  key: string,
  id: string,
  method: 'GET' | 'HEAD',
): void {
  const found = ctx.store.head(bucket, key);
  if (!found.ok) {
    sendStoreError(s, found.error, id, `/${bucket}/${key}`);
    return;
  }
  const meta = found.value;
  if (answeredConditions(s, meta, { id, resource: `/${bucket}/${key}` })) return;
  const range = parseRange(s.req.headers.range, meta.size);
  if (range === 'invalid') {
    sendError(s, 416, 'InvalidRange', 'The requested range is not satisfiable', id);
    return;
  }
  const headers: Record<string, string | number> = { ...objectHeaders(meta, id) };
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else headers['content-length'] = meta.size;
  if (method === 'HEAD' || meta.size === 0) {
    s.res.writeHead(range ? 206 : 200, headers);
    s.res.end();
    return;
  }
  const read = ctx.store.read(bucket, key, range);
  if (!read.ok) {
    sendStoreError(s, read.error, id, `/${bucket}/${key}`);
    return;
  }
  s.res.writeHead(range ? 206 : 200, headers);
  read.value.stream.on('error', () => s.res.destroy());
  read.value.stream.pipe(s.res);
}

/** PUT ?acl on an object: the canned ACL from `x-amz-acl` (default private). */
export async function putObjectAcl(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  s.req.resume();
  const acl = header(s.req, 'x-amz-acl') ?? 'private';
  const set = await ctx.store.setAcl(call.bucket, call.key, acl);
  if (!set.ok) sendStoreError(s, set.error, call.id, `/${call.bucket}/${call.key}`);
  else {
    s.res.writeHead(200, { 'x-amz-request-id': call.id, 'content-length': 0 });
    s.res.end();
  }
}

/** GET (or HEAD) ?acl on an object: its grants, and the canned ACL in `x-emi-canned-acl`. */
export function getObjectAcl(s: S3Request, ctx: S3ApiContext, call: S3Call): void {
  const found = ctx.store.head(call.bucket, call.key);
  if (!found.ok) {
    sendStoreError(s, found.error, call.id, `/${call.bucket}/${call.key}`);
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
    call.id,
    { 'x-emi-canned-acl': found.value.acl },
  );
}

export async function deleteObject(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  const deleted = await ctx.store.delete(call.bucket, call.key);
  if (!deleted.ok) {
    sendStoreError(s, deleted.error, call.id, `/${call.bucket}/${call.key}`);
    return;
  }
  s.res.writeHead(204, { 'x-amz-request-id': call.id });
  s.res.end();
}
