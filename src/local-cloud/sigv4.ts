// AWS Signature Version 4 verification for the local cloud: Authorization header and
// presigned query, S3 and EC2 flavours, plus the per-chunk signatures of aws-chunked
// bodies. This file parses the credentials, applies the policy (known key, date within
// the credential scope, clock skew, presigned URL lifetime) and compares in constant
// time; the signature itself is computed by the SDK's signer (sigv4-signer.ts).
// Request facts in, the caller's key id or an auth error out.
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import { matchesSignature } from './signature-match.js';
import { expectedSigV4 } from './sigv4-signer.js';

export interface SignedRequest {
  readonly method: string;
  /** The path exactly as received (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** The raw query string without '?'. */
  readonly rawQuery: string;
  /** Lower-case header names; repeated headers joined with ','. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** 's3' signs the path as sent; other services normalise and encode it again. */
  readonly service: 's3' | 'ec2';
  /** Hex SHA-256 of the body, for services that do not send x-amz-content-sha256 (EC2). */
  readonly bodySha256?: string;
}

export interface AuthError {
  /** S3/EC2 error code: InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied, RequestTimeTooSkewed… */
  readonly code: string;
  readonly message: string;
}

export interface VerifiedAuth {
  readonly accessKeyId: string;
  /** The payload hash the client signed (S3: a hex digest, UNSIGNED-PAYLOAD or STREAMING-…). */
  readonly payloadHash: string;
  readonly amzDate: string;
  readonly scope: string;
  readonly seedSignature: string;
  /** Hex HMAC-SHA256 of `text` with the request's signing key (aws-chunked chunk signatures). */
  readonly sign: (text: string) => Promise<string>;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a request's date may be from the server's clock (AWS: 15 minutes); all signers. */
export const MAX_SKEW_MS = 15 * 60_000;
/** The longest a presigned URL may live, as on S3: 7 days. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/** RFC 3986 encoding as SigV4 wants it (also !'()*). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** The query pairs decoded; keys may repeat. */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0
        ? [safeDecode(pair), '']
        : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
    });
}

/** Parses `YYYYMMDDTHHMMSSZ`; undefined unless it is a real time written exactly so. */
function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const when = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
  // The signer writes X-Amz-Date back from the time: 20261332T… would not come back.
  return new Date(when).toISOString().replace(/[-:]|\.\d{3}/g, '') === text ? when : undefined;
}

interface AuthParts {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly payloadHash: string;
  /** The query; presigned, without the X-Amz-* parameters the presigner writes back. */
  readonly queryPairs: [string, string][];
  readonly expiresSeconds?: number;
}

function parseCredential(
  credential: string,
): { id: string; date: string; region: string; service: string } | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [id, date, region, service] = parts as [string, string, string, string];
  return { id, date, region, service };
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

function fromHeader(request: SignedRequest, authorization: string): Result<AuthParts, AuthError> {
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    return err({
      code: 'SignatureDoesNotMatch',
      message: authorization.startsWith('AWS ')
        ? 'The Signature Version 2 header (AWS key:signature) is for S3 only; sign EC2 requests with Signature Version 4 (AWS4-HMAC-SHA256).'
        : 'Unsupported authorization type.',
    });
  }
  const fields = new Map<string, string>();
  for (const piece of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0) fields.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
  }
  const credential = parseCredential(fields.get('Credential') ?? '');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || signedHeaders === undefined || signature === undefined)
    return err({ code: 'IncompleteSignature', message: 'The Authorization header is incomplete.' });
  const payloadHash =
    request.headers['x-amz-content-sha256'] ??
    request.bodySha256 ??
    (request.service === 's3' ? '' : sha256Hex(''));
  if (request.service === 's3' && payloadHash === '')
    return err({
      code: 'InvalidRequest',
      message: 'Missing required header for this request: x-amz-content-sha256',
    });
  return ok({
    accessKeyId: credential.id,
    date: credential.date,
    region: credential.region,
    service: credential.service,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: request.headers['x-amz-date'] ?? '',
    payloadHash,
    queryPairs: parseQuery(request.rawQuery),
  });
}

const PRESIGNING_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
]);

function fromQuery(
  request: SignedRequest,
  pairs: [string, string][],
): Result<AuthParts, AuthError> {
  const get = (name: string): string | undefined => pairs.find(([k]) => k === name)?.[1];
  const credential = parseCredential(get('X-Amz-Credential') ?? '');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  const expires = get('X-Amz-Expires');
  if (
    get('X-Amz-Algorithm') !== ALGORITHM ||
    !credential ||
    signedHeaders === undefined ||
    signature === undefined ||
    expires === undefined
  )
    return err({
      code: 'AuthorizationQueryParametersError',
      message:
        'The presigned URL is incomplete: it needs X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.',
    });
  // As S3: a whole number of seconds, at most a week (a longer-lived URL needs a new
  // signature). Written without leading zeros, as every SDK does: the signer writes the
  // number back, so '060' could not be verified.
  if (!/^(0|[1-9]\d{0,9})$/.test(expires))
    return err({
      code: 'AuthorizationQueryParametersError',
      message: `X-Amz-Expires should be a number of seconds (no leading zeros), got '${expires}'.`,
    });
  if (Number(expires) > MAX_PRESIGNED_SECONDS)
    return err({
      code: 'AuthorizationQueryParametersError',
      message: `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_SECONDS}; got ${expires}.`,
    });
  return ok({
    accessKeyId: credential.id,
    date: credential.date,
    region: credential.region,
    service: credential.service,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: get('X-Amz-Date') ?? '',
    payloadHash:
      request.service === 's3' ? 'UNSIGNED-PAYLOAD' : (request.bodySha256 ?? sha256Hex('')),
    queryPairs: pairs.filter(([k]) => !PRESIGNING_PARAMS.has(k)),
    expiresSeconds: Number(expires),
  });
}

/**
 * Verifies the request's SigV4 signature with the secret `secretFor` returns for its
 * key id. Checks the date against `now` (15 minutes of skew; presigned URLs until
 * they expire). The payload itself is checked by the caller against `payloadHash`.
 */
export async function verifySigV4(
  request: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  now: number = Date.now(),
): Promise<Result<VerifiedAuth, AuthError>> {
  const authorization = request.headers.authorization;
  const pairs = parseQuery(request.rawQuery);
  const isPresigned = authorization === undefined && pairs.some(([k]) => k === 'X-Amz-Signature');
  if (authorization === undefined && !isPresigned)
    return err({
      code: 'AccessDenied',
      message: 'Anonymous access is not allowed: sign the request.',
    });
  const parsed = isPresigned ? fromQuery(request, pairs) : fromHeader(request, authorization ?? '');
  if (!parsed.ok) return parsed;
  const a = parsed.value;
  const secret = secretFor(a.accessKeyId);
  if (secret === undefined)
    return err({
      code: 'InvalidAccessKeyId',
      message: `The access key id '${a.accessKeyId}' does not exist in this cloud.`,
    });
  const when = parseAmzDate(a.amzDate);
  if (when === undefined || !a.amzDate.startsWith(a.date))
    return err({
      code: 'AccessDenied',
      message: 'X-Amz-Date is missing or does not match the credential scope.',
    });
  if (a.expiresSeconds !== undefined) {
    // A URL dated in the future would otherwise outlive the 7-day cap.
    if (when - now > MAX_SKEW_MS)
      return err({ code: 'AccessDenied', message: 'Request is not yet valid.' });
    if (now > when + a.expiresSeconds * 1000)
      return err({ code: 'AccessDenied', message: 'Request has expired.' });
  } else if (Math.abs(now - when) > MAX_SKEW_MS) {
    return err({
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    });
  }
  if (!a.signedHeaders.includes('host'))
    return err({ code: 'AccessDenied', message: 'The host header must be signed.' });
  const expected = await expectedSigV4({
    method: request.method,
    rawPath: request.rawPath,
    queryPairs: a.queryPairs,
    headers: request.headers,
    service: request.service,
    accessKeyId: a.accessKeyId,
    secret,
    signingDate: new Date(when),
    region: a.region,
    scopeService: a.service,
    signedHeaders: a.signedHeaders,
    payloadHash: a.payloadHash,
    ...(a.expiresSeconds !== undefined ? { expiresSeconds: a.expiresSeconds } : {}),
  });
  if (!matchesSignature(a.signature.toLowerCase(), Buffer.from(expected.signature, 'hex'), 'hex')) {
    return err({
      code: 'SignatureDoesNotMatch',
      message:
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    });
  }
  return ok({
    accessKeyId: a.accessKeyId,
    payloadHash: a.payloadHash,
    amzDate: a.amzDate,
    scope: `${a.date}/${a.region}/${a.service}/aws4_request`,
    seedSignature: expected.signature,
    sign: expected.sign,
  });
}

/** The expected signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkSignature(
  auth: VerifiedAuth,
  previousSignature: string,
  chunkSha256: string,
): Promise<string> {
  return auth.sign(
    [
      'AWS4-HMAC-SHA256-PAYLOAD',
      auth.amzDate,
      auth.scope,
      previousSignature,
      sha256Hex(''),
      chunkSha256,
    ].join('\n'),
  );
}
