// HTTP plumbing shared by the local cloud's S3 handlers: request ids, headers, XML and
// error responses (S3's error document), ACL grants. No routing, no storage.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChunkedBodyError } from './aws-chunked.js';
import type { BucketStore, StoreError } from './bucket-store.js';
import { xmlDocument, type XmlNode } from './xml.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface S3ApiContext {
  readonly store: BucketStore;
  /** The secret of an access key id, or undefined when unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The account id owning an access key id. */
  readonly accountFor: (accessKeyId: string) => string;
  readonly region: string;
  /** The clock signatures are checked against (ms since the epoch). */
  readonly now: () => number;
  /** The largest object a PUT may store, in bytes (S3: 5 GiB). */
  readonly maxObjectSize: number;
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

export function requestId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}

/** One header's value (repeated headers joined with ','). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Lower-case header names to values; a repeated header's values joined with ',' (no
 * space), as both signature versions canonicalise them (req.headers would join with ', ').
 */
export function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, values] of Object.entries(req.headersDistinct))
    if (values !== undefined) out[name] = values.join(',');
  return out;
}

export function sendXml(
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

export function sendError(
  s: S3Request,
  status: number,
  code: string,
  message: string,
  id: string,
  resource?: string,
  options: {
    readonly closeConnection?: boolean;
    /** Elements after Message, as S3 adds them (`Condition`, `Header`, `PartNumber`…). */
    readonly details?: readonly XmlNode[];
  } = {},
): void {
  // Drain what the client still sends so that keep-alive connections stay usable; a body
  // refused for its size is not read: the connection closes after the answer instead.
  if (options.closeConnection === true) s.res.shouldKeepAlive = false;
  else if (!s.req.complete) s.req.resume();
  const body = xmlDocument('Error', undefined, [
    ['Code', code],
    ['Message', message],
    ...(options.details ?? []),
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

const STORE_STATUS: Record<Exclude<StoreError['code'], 'PreconditionFailed'>, [number, string]> = {
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
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
};

export function sendStoreError(
  s: S3Request,
  error: StoreError,
  id: string,
  resource: string,
): void {
  if (error.code === 'Stream') {
    // The client went away mid-body; nobody is listening for an answer. (Not
    // `req.destroyed`: a request read to its end is destroyed too, with its client waiting,
    // as after an aws-chunked body whose last chunk signature is wrong.)
    if (s.req.socket.destroyed || s.res.destroyed) return;
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
  if (error.code === 'InvalidBucketName') {
    sendError(
      s,
      400,
      error.code,
      `The specified bucket is not valid: ${error.problem}.`,
      id,
      resource,
    );
    return;
  }
  if (error.code === 'EntityTooLarge') {
    sendError(
      s,
      400,
      error.code,
      `Your proposed upload exceeds the maximum allowed object size of ${error.limit} bytes.`,
      id,
      resource,
      { closeConnection: true },
    );
    return;
  }
  if (error.code === 'PreconditionFailed') {
    sendError(
      s,
      412,
      error.code,
      'At least one of the pre-conditions you specified did not hold',
      id,
      resource,
      { details: [['Condition', error.condition]] },
    );
    return;
  }
  const [status, message] = STORE_STATUS[error.code];
  sendError(s, status, error.code, message, id, resource);
}

/** Canned ACL → grants, as GetObjectAcl shows them. */
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

export function grantsFor(acl: string, owner: string): XmlNode[] {
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
