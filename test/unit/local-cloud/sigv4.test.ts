// SigV4 verification against AWS's published test vector, tampering, skew, presigned
// URLs; aws-chunked decoding with and without chunk signatures.
import { describe, expect, test } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { AwsChunkedDecoder } from '../../../src/local-cloud/aws-chunked.js';
import {
  chunkSignature,
  signingKey,
  verifySigV4,
  type SignedRequest,
} from '../../../src/local-cloud/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const secretFor = (id: string): string | undefined => (id === 'AKIDEXAMPLE' ? SECRET : undefined);
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);

// "get-vanilla" from AWS's SigV4 test suite (aws-sig-v4-test-suite).
const vanilla: SignedRequest = {
  method: 'GET',
  rawPath: '/',
  rawQuery: '',
  service: 'ec2',
  headers: {
    host: 'example.amazonaws.com',
    'x-amz-date': '20150830T123600Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
};

describe('verifySigV4', () => {
  test("accepts AWS's get-vanilla test vector", () => {
    const r = verifySigV4(vanilla, secretFor, NOW);
    expect(r.ok && r.value.accessKeyId).toBe('AKIDEXAMPLE');
  });

  test.each([
    ['another secret', { ...vanilla }, () => 'wrong', 'SignatureDoesNotMatch'],
    ['an unknown key id', { ...vanilla }, () => undefined, 'InvalidAccessKeyId'],
    ['a changed path', { ...vanilla, rawPath: '/x' }, secretFor, 'SignatureDoesNotMatch'],
    ['a changed query', { ...vanilla, rawQuery: 'a=b' }, secretFor, 'SignatureDoesNotMatch'],
    [
      'a changed host',
      { ...vanilla, headers: { ...vanilla.headers, host: 'evil' } },
      secretFor,
      'SignatureDoesNotMatch',
    ],
    ['no authorization', { ...vanilla, headers: { host: 'h' } }, secretFor, 'AccessDenied'],
    [
      'signature v2',
      { ...vanilla, headers: { ...vanilla.headers, authorization: 'AWS AKIDEXAMPLE:abc=' } },
      secretFor,
      'SignatureDoesNotMatch',
    ],
  ])('refuses %s', (_what, request, secrets, code) => {
    const r = verifySigV4(request, secrets, NOW);
    expect(!r.ok && r.error.code).toBe(code);
  });

  test('refuses a request time more than 15 minutes off', () => {
    const r = verifySigV4(vanilla, secretFor, NOW + 16 * 60_000);
    expect(!r.ok && r.error.code).toBe('RequestTimeTooSkewed');
  });

  /** A correctly signed presigned GET with `expires` (absent when undefined) and X-Amz-Date `date`. */
  function presigned(expires: string | undefined, date = '20150830T123600Z'): SignedRequest {
    const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const query = [
      'X-Amz-Algorithm=AWS4-HMAC-SHA256',
      `X-Amz-Credential=${encodeURIComponent(`AKIDEXAMPLE/${scope}`)}`,
      `X-Amz-Date=${date}`,
      ...(expires !== undefined ? [`X-Amz-Expires=${expires}`] : []),
      'X-Amz-SignedHeaders=host',
    ].join('&');
    const canonical = ['GET', '/b/k', query, 'host:h:1\n', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const toSign = [
      'AWS4-HMAC-SHA256',
      date,
      scope,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n');
    const signature = createHmac('sha256', signingKey(SECRET, date.slice(0, 8), 'us-east-1', 's3'))
      .update(toSign)
      .digest('hex');
    return {
      method: 'GET',
      rawPath: '/b/k',
      rawQuery: `${query}&X-Amz-Signature=${signature}`,
      service: 's3',
      headers: { host: 'h:1' },
    };
  }

  test('presigned query: at most 7 days, as S3', () => {
    expect(verifySigV4(presigned('604800'), secretFor, NOW + 1000).ok).toBe(true);
    const long = verifySigV4(presigned('604801'), secretFor, NOW + 1000);
    expect(!long.ok && long.error.code).toBe('AuthorizationQueryParametersError');
    expect(!long.ok && long.error.message).toMatch(/less than a week.*604800/);
  });

  test.each([
    ['not a number', 'abc'],
    ['negative', '-5'],
    ['missing', undefined],
  ])('presigned query: X-Amz-Expires %s is refused', (_what, expires) => {
    const r = verifySigV4(presigned(expires), secretFor, NOW + 1000);
    expect(!r.ok && r.error.code).toBe('AuthorizationQueryParametersError');
  });

  test('presigned query: a URL dated in the future is not yet valid (no way round the cap)', () => {
    const r = verifySigV4(presigned('604800', '20150930T123600Z'), secretFor, NOW);
    expect(!r.ok && r.error).toEqual({
      code: 'AccessDenied',
      message: 'Request is not yet valid.',
    });
  });

  test('presigned query: valid until X-Amz-Expires, not after', () => {
    const date = '20150830T123600Z';
    const scope = '20150830/us-east-1/s3/aws4_request';
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`AKIDEXAMPLE/${scope}`)}&X-Amz-Date=${date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host`;
    const canonicalQuery = query.split('&').sort().join('&');
    const canonical = [
      'GET',
      '/bucket/key',
      canonicalQuery,
      'host:h:1\n',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const toSign = [
      'AWS4-HMAC-SHA256',
      date,
      scope,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n');
    const signature = createHmac('sha256', signingKey(SECRET, '20150830', 'us-east-1', 's3'))
      .update(toSign)
      .digest('hex');
    const request: SignedRequest = {
      method: 'GET',
      rawPath: '/bucket/key',
      rawQuery: `${query}&X-Amz-Signature=${signature}`,
      service: 's3',
      headers: { host: 'h:1' },
    };
    expect(verifySigV4(request, secretFor, NOW + 30_000).ok).toBe(true);
    const late = verifySigV4(request, secretFor, NOW + 61_000);
    expect(!late.ok && late.error.message).toMatch(/expired/);
  });
});

describe('AwsChunkedDecoder', () => {
  const auth = {
    accessKeyId: 'AKIDEXAMPLE',
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    signingKey: signingKey(SECRET, '20150830', 'us-east-1', 's3'),
    amzDate: '20150830T123600Z',
    scope: '20150830/us-east-1/s3/aws4_request',
    seedSignature: 'a'.repeat(64),
  };
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  function signedBody(chunks: Buffer[]): Buffer {
    let previous = auth.seedSignature;
    const out: Buffer[] = [];
    for (const chunk of [...chunks, Buffer.alloc(0)]) {
      const sig = chunkSignature(auth, previous, sha(chunk));
      previous = sig;
      out.push(
        Buffer.from(`${chunk.length.toString(16)};chunk-signature=${sig}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      );
    }
    return Buffer.concat(out);
  }

  test('decodes a signed body split at awkward places', async () => {
    const data = [Buffer.alloc(70_000, 1), Buffer.alloc(10, 2)];
    const body = signedBody(data);
    const pieces = [body.subarray(0, 7), body.subarray(7, 90_000), body.subarray(90_000)];
    const out = await buffer(Readable.from(pieces).pipe(new AwsChunkedDecoder(auth)));
    expect(out.equals(Buffer.concat(data))).toBe(true);
  });

  test('refuses a chunk whose bytes were changed', async () => {
    const body = signedBody([Buffer.from('hello world')]);
    body[body.indexOf('hello')] = 0x48;
    await expect(buffer(Readable.from([body]).pipe(new AwsChunkedDecoder(auth)))).rejects.toThrow(
      /chunk signature/,
    );
  });

  test('decodes unsigned chunks with a trailing checksum', async () => {
    const body = Buffer.from(
      '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
    );
    const decoder = new AwsChunkedDecoder();
    const out = await buffer(Readable.from([body]).pipe(decoder));
    expect(out.toString()).toBe('hello world');
    expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
  });
});
