// The local cloud's S3 REST subset: buckets (list, create, head, delete, location, list
// objects v1/v2), objects (put incl. aws-chunked, get with ranges, head, delete, ACL),
// SigV4 on every request. Enough for @aws-sdk/client-s3, awscli and s3cmd; multipart
// uploads are answered NotImplemented. Storage is BucketStore's.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AwsChunkedDecoder, ChunkedBodyError } from './aws-chunked.js';
import type { BucketStore, ObjectMeta, StoreError } from './bucket-store.js';
import { parseQuery, uriEncode, verifySigV4, type VerifiedAuth } from './sigv4.js';
import { xmlDocument, type XmlNode } from './xml.js';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const CANNED_ACLS = new Set([
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
/** Bucket names this server keeps for itself (the Eucalyptus-style service paths). */
const RESERVED_BUCKETS = new Set(['services']);

export interface S3ApiContext {
  readonly store: BucketStore;
  /** The secret of an access key id, or undefined when unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The account id owning an access key id. */
  readonly accountFor: (accessKeyId: string) => string;
  readonly region: string;
}

export interface S3Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Path as received, percent-encoded (signed as is). */
  readonly rawPath: string;
  /** Path with the `/services/objectstorage` prefix removed, percent-encoded. */
  readonly routePath: string;
  readonly rawQuery: string;
}

function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** One header's value (repeated headers joined with ','). */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    out[name] = Array.isArray(value) ? value.join(',') : value;
  return out;
}

function sendXml(
  res: ServerResponse,
  status: number,
  body: string,
  id: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': id,
    ...extra,
  });
  res.end(body);
}

function sendError(
  s: S3Request,
  status: number,
  code: string,
  message: string,
  id: string,
  resource?: string,
): void {
  // Drain what the client still sends so that keep-alive connections stay usable.
  if (!s.req.complete) s.req.resume();
  const body = xmlDocument('Error', undefined, [
    ['Code', code],
    ['Message', message],
    resource !== undefined ? ['Resource', resource] : undefined,
    ['RequestId', id],
  ]);
  if (s.req.method === 'HEAD') {
    s.res.writeHead(status, { 'x-amz-request-id': id, 'x-amz-error-code': code });
    s.res.end();
    return;
  }
  sendXml(s.res, status, body, id);
}

const STORE_STATUS: Record<StoreError['code'], [number, string]> = {
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  BucketAlreadyOwnedByYou: [
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
  ],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  XAmzContentSHA256Mismatch: [
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ],
  IncompleteBody: [
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  ],
  Stream: [400, 'The request body could not be read.'],
};

function sendStoreError(s: S3Request, error: StoreError, id: string, resource: string): void {
  if (error.code === 'Stream') {
    // The client went away mid-body; nobody is listening for an answer.
    if (s.req.destroyed || s.res.destroyed) return;
    const cause = error.cause;
    if (cause instanceof ChunkedBodyError) {
      sendError(
        s,
        cause.code === 'SignatureDoesNotMatch' ? 403 : 400,
        cause.code,
        cause.message,
        id,
        resource,
      );
      return;
    }
  }
  const [status, message] = STORE_STATUS[error.code];
  sendError(s, status, error.code, message, id, resource);
}

/** Canned ACL → grants, as GetObjectAcl shows them. */
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

function grantsFor(acl: string, owner: string): XmlNode[] {
  const canonical = (id: string, name: string, permission: string): XmlNode => [
    'Grant',
    [
      [
        `Grantee ${XSI} xsi:type="CanonicalUser"`,
        [
          ['ID', id],
          ['DisplayName', name],
        ],
      ],
      ['Permission', permission],
    ],
  ];
  const group = (uri: string, permission: string): XmlNode => [
    'Grant',
    [
      [`Grantee ${XSI} xsi:type="Group"`, [['URI', uri]]],
      ['Permission', permission],
    ],
  ];
  const grants: XmlNode[] = [canonical(owner, owner, 'FULL_CONTROL')];
  if (acl === 'public-read' || acl === 'public-read-write')
    grants.push(group('http://acs.amazonaws.com/groups/global/AllUsers', 'READ'));
  if (acl === 'authenticated-read')
    grants.push(group('http://acs.amazonaws.com/groups/global/AuthenticatedUsers', 'READ'));
  if (acl === 'aws-exec-read' || acl === 'ec2-bundle-read')
    grants.push(canonical(acl, acl, 'READ'));
  return grants;
}

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

function listObjects(
  s: S3Request,
  ctx: S3ApiContext,
  bucket: string,
  query: Map<string, string>,
  id: string,
): void {
  const v2 = query.get('list-type') === '2';
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.max(0, Math.min(1000, Number(query.get('max-keys') ?? '1000') || 0));
  const urlEncode = query.get('encoding-type') === 'url';
  const enc = (text: string): string => (urlEncode ? uriEncode(text).replace(/%2F/g, '/') : text);
  const token = query.get('continuation-token');
  const after = v2
    ? token !== undefined
      ? Buffer.from(token, 'base64').toString('utf8')
      : (query.get('start-after') ?? '')
    : (query.get('marker') ?? '');
  const listed = ctx.store.list(bucket, prefix);
  if (!listed.ok) {
    sendStoreError(s, listed.error, id, `/${bucket}`);
    return;
  }
  const contents: ObjectMeta[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last = '';
  for (const object of listed.value) {
    if (after !== '' && object.key <= after) continue;
    let commonPrefix: string | undefined;
    if (delimiter !== '') {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at >= 0) commonPrefix = object.key.slice(0, at + delimiter.length);
    }
    if (commonPrefix !== undefined && prefixes.at(-1) === commonPrefix) continue;
    if (commonPrefix !== undefined && after !== '' && after.startsWith(commonPrefix)) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) {
      prefixes.push(commonPrefix);
      last = commonPrefix;
    } else {
      contents.push(object);
      last = object.key;
    }
  }
  const owner = (o: ObjectMeta): XmlNode => [
    'Owner',
    [
      ['ID', o.owner],
      ['DisplayName', o.owner],
    ],
  ];
  const body = xmlDocument('ListBucketResult', S3_NS, [
    ['Name', bucket],
    ['Prefix', enc(prefix)],
    ...(v2
      ? [
          ['KeyCount', contents.length + prefixes.length] as XmlNode,
          token !== undefined ? (['ContinuationToken', token] as XmlNode) : undefined,
          truncated
            ? (['NextContinuationToken', Buffer.from(last).toString('base64')] as XmlNode)
            : undefined,
          query.has('start-after')
            ? (['StartAfter', enc(query.get('start-after') ?? '')] as XmlNode)
            : undefined,
        ]
      : [
          ['Marker', enc(after)] as XmlNode,
          truncated && delimiter !== '' ? (['NextMarker', enc(last)] as XmlNode) : undefined,
        ]),
    ['MaxKeys', maxKeys],
    delimiter !== '' ? ['Delimiter', enc(delimiter)] : undefined,
    urlEncode ? ['EncodingType', 'url'] : undefined,
    ['IsTruncated', truncated],
    ...contents.map((o): XmlNode => [
      'Contents',
      [
        ['Key', enc(o.key)],
        ['LastModified', o.lastModified],
        ['ETag', `"${o.etag}"`],
        ['Size', o.size],
        ['StorageClass', 'STANDARD'],
        v2 && query.get('fetch-owner') !== 'true' ? undefined : owner(o),
      ],
    ]),
    ...prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
  ]);
  sendXml(s.res, 200, body, id);
}

function bodyStream(s: S3Request, auth: VerifiedAuth): Readable {
  const encoding = header(s.req, 'content-encoding') ?? '';
  const streaming = auth.payloadHash.startsWith('STREAMING-');
  if (!streaming && !encoding.includes('aws-chunked')) return s.req;
  const signed = auth.payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const decoder = new AwsChunkedDecoder(signed ? auth : undefined);
  s.req.on('error', (error) => decoder.destroy(error));
  return s.req.pipe(decoder);
}

async function putObject(
  s: S3Request,
  ctx: S3ApiContext,
  auth: VerifiedAuth,
  bucket: string,
  key: string,
  id: string,
): Promise<void> {
  const acl = header(s.req, 'x-amz-acl') ?? 'private';
  if (!CANNED_ACLS.has(acl)) {
    sendError(s, 400, 'InvalidArgument', `Unknown canned ACL '${acl}'.`, id, `/${bucket}/${key}`);
    return;
  }
  if (header(s.req, 'x-amz-copy-source') !== undefined) {
    sendError(s, 501, 'NotImplemented', 'CopyObject is not implemented by the local cloud.', id);
    return;
  }
  const md5Header = header(s.req, 'content-md5');
  const expectedMd5 =
    md5Header !== undefined ? Buffer.from(md5Header, 'base64').toString('hex') : undefined;
  const streaming =
    auth.payloadHash.startsWith('STREAMING-') ||
    (header(s.req, 'content-encoding') ?? '').includes('aws-chunked');
  const lengthHeader = streaming
    ? header(s.req, 'x-amz-decoded-content-length')
    : header(s.req, 'content-length');
  const expectedLength = lengthHeader !== undefined ? Number(lengthHeader) : undefined;
  const expectedSha256 = /^[0-9a-f]{64}$/.test(auth.payloadHash) ? auth.payloadHash : undefined;
  const stored = await ctx.store.put(bucket, key, bodyStream(s, auth), {
    owner: ctx.accountFor(auth.accessKeyId),
    acl,
    contentType: header(s.req, 'content-type') ?? 'binary/octet-stream',
    ...(expectedMd5 !== undefined ? { expectedMd5 } : {}),
    ...(expectedSha256 !== undefined ? { expectedSha256 } : {}),
    ...(expectedLength !== undefined && Number.isSafeInteger(expectedLength)
      ? { expectedLength }
      : {}),
  });
  if (!stored.ok) {
    sendStoreError(s, stored.error, id, `/${bucket}/${key}`);
    return;
  }
  s.res.writeHead(200, {
    etag: `"${stored.value.etag}"`,
    'x-amz-request-id': id,
    'content-length': 0,
  });
  s.res.end();
}

function getObject(
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

/** Serves one S3 request. Never throws: every problem is an S3 error response. */
export async function handleS3(s: S3Request, ctx: S3ApiContext): Promise<void> {
  const id = requestId();
  const method = s.req.method ?? 'GET';
  const pairs = parseQuery(s.rawQuery);
  const query = new Map(pairs);
  const segments = s.routePath.replace(/^\/+/, '');
  const slash = segments.indexOf('/');
  const bucket = decodeURIComponent(slash < 0 ? segments : segments.slice(0, slash));
  const key = slash < 0 ? '' : decodeURIComponent(segments.slice(slash + 1));
  const auth = verifySigV4(
    { method, rawPath: s.rawPath, rawQuery: s.rawQuery, headers: headerMap(s.req), service: 's3' },
    ctx.secretFor,
  );
  if (!auth.ok) {
    // Anonymous reads of public-read objects are allowed, as S3 does.
    const anonymous = s.req.headers.authorization === undefined && !query.has('X-Amz-Signature');
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
        if (RESERVED_BUCKETS.has(bucket) || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
          sendError(
            s,
            400,
            'InvalidBucketName',
            `The specified bucket is not valid: '${bucket}'.`,
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
