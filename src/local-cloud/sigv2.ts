// AWS Signature Version 2 ("AWS AKID:sig", HMAC-SHA1) verification for the local cloud's
// S3: Authorization header and query-string (AWSAccessKeyId/Expires/Signature) forms.
// Pure: request facts in, the caller's key id or an auth error out. euca2ools signs S3
// with it unless told otherwise. No library computes it, so it is written from the spec:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html
import { createHmac } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import { matchesSignature } from './signature-match.js';
import { MAX_SKEW_MS, type AuthError } from './sigv4.js';
import { parseQueryAsSent } from './query-string.js';

export interface SigV2Request {
  readonly method: string;
  /**
   * The path a client signs, still percent-encoded, without the query: `/bucket/key`
   * (the service path `/services/objectstorage` removed, as euca2ools signs it).
   */
  readonly resourcePath: string;
  /** Other spellings of the path a client may have signed (boto with a path in its endpoint signs the whole path). */
  readonly alternativePaths?: readonly string[];
  /** The raw query string without '?'. */
  readonly rawQuery: string;
  /** Lower-case header names; repeated headers joined with ','. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/**
 * Query parameters that are part of the signed resource ("sub-resources"), AWS's list
 * plus the `response-*` overrides; the same as botocore's HmacV1Auth.QSAOfInterest.
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'defaultObjectAcl',
  'delete',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'select',
  'select-type',
  'storageClass',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/**
 * CanonicalizedResource: the path plus the sub-resources, sorted by name, values not
 * URL-encoded ("?partNumber=2&uploadId=x", "?acl").
 */
export function canonicalResource(path: string, rawQuery: string): string {
  const subresources = parseQueryAsSent(rawQuery)
    .filter(([name]) => SIGNED_SUBRESOURCES.has(name))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => (value === undefined ? name : `${name}=${value}`));
  return (path === '' ? '/' : path) + (subresources.length > 0 ? `?${subresources.join('&')}` : '');
}

/**
 * CanonicalizedAmzHeaders: every x-amz-* header, lower-cased, sorted, folded lines
 * unfolded, one `name:value\n` each (repeated headers arrive already joined with ',').
 */
export function canonicalAmzHeaders(headers: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(headers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name.startsWith('x-amz-'))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => `${name}:${value.replace(/\s*\r?\n\s*/g, ' ').trim()}\n`)
    .join('');
}

/** The StringToSign; `date` is the Date header, '' when x-amz-date is sent, or Expires. */
export function stringToSignV2(request: SigV2Request, date: string, path: string): string {
  const h = request.headers;
  return [
    request.method,
    (h['content-md5'] ?? '').trim(),
    (h['content-type'] ?? '').trim(),
    date,
    canonicalAmzHeaders(h) + canonicalResource(path, request.rawQuery),
  ].join('\n');
}

/** Base64 HMAC-SHA1 of `text` with `secret`. */
export function signV2(secret: string, text: string): string {
  return hmacSha1(secret, text).toString('base64');
}

const hmacSha1 = (secret: string, text: string): Buffer =>
  createHmac('sha1', secret).update(text, 'utf8').digest();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Parses an HTTP date as clients send it for SigV2: RFC 1123 with `GMT`/`UTC`/`Z` or a
 * numeric zone (`Tue, 24 Nov 2026 20:14:03 -0000`, Python's email.utils.formatdate),
 * or ISO 8601 (`2026-11-24T20:14:03Z`, `20261124T201403Z`). Undefined when unreadable.
 */
export function parseHttpDate(text: string): number | undefined {
  const rfc =
    /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s*(GMT|UTC|UT|Z|[+-]\d{4})$/.exec(
      text.trim(),
    );
  if (rfc) {
    const month = MONTHS.indexOf(
      (rfc[2] ?? '').slice(0, 1).toUpperCase() + (rfc[2] ?? '').slice(1).toLowerCase(),
    );
    if (month < 0) return undefined;
    const zone = rfc[7] ?? 'GMT';
    const offsetMin = /^[+-]/.test(zone)
      ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)))
      : 0;
    return (
      Date.UTC(
        Number(rfc[3]),
        month,
        Number(rfc[1]),
        Number(rfc[4]),
        Number(rfc[5]),
        Number(rfc[6]),
      ) -
      offsetMin * 60_000
    );
  }
  const iso = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.\d+)?Z$/.exec(text.trim());
  if (iso)
    return Date.UTC(
      Number(iso[1]),
      Number(iso[2]) - 1,
      Number(iso[3]),
      Number(iso[4]),
      Number(iso[5]),
      Number(iso[6]),
    );
  return undefined;
}

/** True when the request carries SigV2 credentials (header `AWS …` or query `AWSAccessKeyId`). */
export function isSigV2(request: Pick<SigV2Request, 'headers' | 'rawQuery'>): boolean {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) return authorization.startsWith('AWS ');
  return parseQueryAsSent(request.rawQuery).some(
    ([name]) => name === 'AWSAccessKeyId' || name === 'Signature',
  );
}

const mismatch = (): AuthError => ({
  code: 'SignatureDoesNotMatch',
  message:
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
});

/**
 * Verifies a SigV2 request with the secret `secretFor` returns for its key id. Header
 * form: the Date (or x-amz-date) must be within 15 minutes of `now`; query form: valid
 * until `Expires` (seconds since the epoch). Same refusals as SigV4: InvalidAccessKeyId,
 * SignatureDoesNotMatch, RequestTimeTooSkewed, AccessDenied "Request has expired".
 */
export function verifySigV2(
  request: SigV2Request,
  secretFor: (accessKeyId: string) => string | undefined,
  now: number = Date.now(),
): Result<{ readonly accessKeyId: string }, AuthError> {
  const authorization = request.headers.authorization;
  let accessKeyId: string;
  let signature: string;
  let date: string;
  if (authorization !== undefined) {
    const colon = authorization.lastIndexOf(':');
    if (!authorization.startsWith('AWS ') || colon < 5)
      return err({
        code: 'InvalidArgument',
        message: "Authorization header is invalid -- one and only one ' ' (space) required",
      });
    accessKeyId = authorization.slice(4, colon).trim();
    signature = authorization.slice(colon + 1).trim();
    const amzDate = request.headers['x-amz-date'];
    const sent = amzDate ?? request.headers.date;
    const when = sent === undefined ? undefined : parseHttpDate(sent);
    if (when === undefined)
      return err({
        code: 'AccessDenied',
        message: 'AWS authentication requires a valid Date or x-amz-date header',
      });
    if (Math.abs(now - when) > MAX_SKEW_MS)
      return err({
        code: 'RequestTimeTooSkewed',
        message: 'The difference between the request time and the current time is too large.',
      });
    // With x-amz-date the Date line is empty; x-amz-date is signed among the x-amz-* headers.
    date = amzDate !== undefined ? '' : (sent ?? '');
  } else {
    const pairs = parseQueryAsSent(request.rawQuery);
    const get = (name: string): string | undefined => pairs.find(([k]) => k === name)?.[1];
    const id = get('AWSAccessKeyId');
    const sig = get('Signature');
    const expires = get('Expires');
    if (id === undefined || sig === undefined || expires === undefined)
      return err({
        code: 'AccessDenied',
        message:
          'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters',
      });
    if (!/^\d{1,12}$/.test(expires))
      return err({
        code: 'AccessDenied',
        message: `Invalid date (should be seconds since epoch): ${expires}`,
      });
    accessKeyId = id;
    // An unescaped '+' in the signature arrives as a space (form decoding); base64 has no spaces.
    signature = sig.replace(/ /g, '+');
    date = expires;
    if (now > Number(expires) * 1000)
      return err({ code: 'AccessDenied', message: 'Request has expired' });
  }
  const secret = secretFor(accessKeyId);
  if (secret === undefined)
    return err({
      code: 'InvalidAccessKeyId',
      message: `The access key id '${accessKeyId}' does not exist in this cloud.`,
    });
  const unsigned: SigV2Request =
    authorization !== undefined
      ? request
      : {
          ...request,
          rawQuery: request.rawQuery
            .split('&')
            .filter((p) => !/^(AWSAccessKeyId|Expires|Signature)(=|$)/.test(p))
            .join('&'),
        };
  let matched = false;
  for (const path of [request.resourcePath, ...(request.alternativePaths ?? [])]) {
    const expected = hmacSha1(secret, stringToSignV2(unsigned, date, path));
    // Every candidate is compared (no early exit) so that timing says nothing either.
    if (matchesSignature(signature, expected, 'base64')) matched = true;
  }
  return matched ? ok({ accessKeyId }) : err(mismatch());
}
