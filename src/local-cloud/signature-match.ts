// Constant-time comparison of the signature a client sent with the one the local cloud
// computed, shared by every signer: SigV2 (base64; S3 and EC2) and SigV4 (hex; requests
// and aws-chunked chunks).
import { timingSafeEqual } from 'node:crypto';

/**
 * Whether `sent`, written in `encoding`, is the signature `expected`, compared in
 * constant time. Only the canonical spelling counts: base64 as Node writes it, hex in
 * lower case (callers that accept upper-case hex lower it first).
 */
export function matchesSignature(
  sent: string,
  expected: Uint8Array,
  encoding: 'base64' | 'hex',
): boolean {
  const given = Buffer.from(sent, encoding);
  // Buffer.from ignores what it cannot decode; a re-encoding must give back what was sent.
  if (given.length !== expected.length || given.toString(encoding) !== sent) return false;
  return timingSafeEqual(given, expected);
}
