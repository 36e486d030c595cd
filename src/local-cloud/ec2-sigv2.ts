// AWS Signature Version 2 for the EC2 Query API (SignatureVersion=2, HmacSHA256 or
// HmacSHA1, parameters in the query or the form body), as Eucalyptus still accepts it
// from boto 2 and older euca2ools. Pure: request facts in, the key id or an auth error out.
// Spec: https://docs.aws.amazon.com/general/latest/gr/signature-version-2.html
import { createHmac } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import { MAX_SKEW_MS, uriEncode, type AuthError } from './sigv4.js';
import { matchesSignature } from './signature-match.js';

export interface Ec2SigV2Request {
  readonly method: string;
  /** The Host header as sent (lower-cased when signed). */
  readonly host: string;
  /** The path as received (e.g. `/services/compute`). */
  readonly rawPath: string;
  /** Every parameter of the query and the form body, decoded, Signature included. */
  readonly params: readonly (readonly [string, string])[];
}

const ALGORITHMS: Readonly<Record<string, 'sha256' | 'sha1'>> = {
  HmacSHA256: 'sha256',
  HmacSHA1: 'sha1',
};

/** True when the parameters ask for SigV2 (`SignatureVersion=2`). */
export function isEc2SigV2(params: readonly (readonly [string, string])[]): boolean {
  return params.some(([k, v]) => k === 'SignatureVersion' && v === '2');
}

/** ISO 8601 as SigV2 clients send it (`2011-10-03T15:19:30`, `…Z`, `….123Z`); UTC when no zone. */
function parseIsoTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text,
  );
  if (!m) return undefined;
  const zone = m[7] ?? 'Z';
  const offsetMin =
    zone === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return (
    Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    ) -
    offsetMin * 60_000
  );
}

/** The StringToSign: method, host, path, then the sorted RFC 3986-encoded parameters. */
export function ec2StringToSign(request: Ec2SigV2Request): string {
  const canonical = request.params
    .filter(([k]) => k !== 'Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return [request.method, request.host.toLowerCase(), request.rawPath || '/', canonical].join('\n');
}

/**
 * Verifies an EC2 SigV2 request: `Timestamp` within 15 minutes of `now`, or before
 * `Expires`; unknown key → InvalidAccessKeyId (AuthFailure in EC2's answer), wrong
 * signature → SignatureDoesNotMatch; signatures compared in constant time.
 */
export function verifyEc2SigV2(
  request: Ec2SigV2Request,
  secretFor: (accessKeyId: string) => string | undefined,
  now: number = Date.now(),
): Result<{ readonly accessKeyId: string }, AuthError> {
  const get = (name: string): string | undefined => request.params.find(([k]) => k === name)?.[1];
  const accessKeyId = get('AWSAccessKeyId');
  const signature = get('Signature');
  const method = get('SignatureMethod') ?? '';
  const algorithm = ALGORITHMS[method];
  if (accessKeyId === undefined || signature === undefined)
    return err({
      code: 'MissingParameter',
      message: 'Signature Version 2 needs the AWSAccessKeyId and Signature parameters.',
    });
  if (algorithm === undefined)
    return err({
      code: 'InvalidParameterValue',
      message: `SignatureMethod must be HmacSHA256 or HmacSHA1, got '${method}'.`,
    });
  const timestamp = get('Timestamp');
  const expires = get('Expires');
  const when = parseIsoTime(timestamp ?? expires ?? '');
  if (when === undefined)
    return err({
      code: 'MissingParameter',
      message: 'Signature Version 2 needs a Timestamp or Expires parameter (ISO 8601).',
    });
  if (timestamp !== undefined && Math.abs(now - when) > MAX_SKEW_MS)
    return err({
      code: 'RequestTimeTooSkewed',
      message: 'The difference between the request time and the current time is too large.',
    });
  if (timestamp === undefined && now > when)
    return err({ code: 'RequestExpired', message: 'Request has expired.' });
  const secret = secretFor(accessKeyId);
  if (secret === undefined)
    return err({
      code: 'InvalidAccessKeyId',
      message: `The access key id '${accessKeyId}' does not exist in this cloud.`,
    });
  const expected = createHmac(algorithm, secret).update(ec2StringToSign(request)).digest();
  // An unescaped '+' arrives as a space (form decoding); base64 has no spaces.
  const sent = signature.replace(/ /g, '+');
  return matchesSignature(sent, expected, 'base64')
    ? ok({ accessKeyId })
    : err({
        code: 'SignatureDoesNotMatch',
        message:
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      });
}
