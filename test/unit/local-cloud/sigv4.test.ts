// SigV4 verification against AWS's published test vectors (get-vanilla, S3's aws-chunked
// example), tampering, skew, presigned URLs, the SignedHeaders cases the SDK's signer
// would not sign by itself; aws-chunked decoding with and without chunk signatures.
// Expected signatures are computed here by hand, independently of @smithy/signature-v4.
import { describe, expect, test } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { AwsChunkedDecoder } from '../../../src/local-cloud/aws-chunked.js';
import {
  verifySigV4,
  type SignedRequest,
  type VerifiedAuth,
} from '../../../src/local-cloud/sigv4.js';

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();
/** The SigV4 signing key, by hand (AWS's HMAC chain). */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

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
  test("accepts AWS's get-vanilla test vector", async () => {
    const r = await verifySigV4(vanilla, secretFor, NOW);
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
  ])('refuses %s', async (_what, request, secrets, code) => {
    const r = await verifySigV4(request, secrets, NOW);
    expect(!r.ok && r.error.code).toBe(code);
  });

  test('refuses a request time more than 15 minutes off', async () => {
    const r = await verifySigV4(vanilla, secretFor, NOW + 16 * 60_000);
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

  test('presigned query: at most 7 days, as S3', async () => {
    expect((await verifySigV4(presigned('604800'), secretFor, NOW + 1000)).ok).toBe(true);
    const long = await verifySigV4(presigned('604801'), secretFor, NOW + 1000);
    expect(!long.ok && long.error.code).toBe('AuthorizationQueryParametersError');
    expect(!long.ok && long.error.message).toMatch(/less than a week.*604800/);
  });

  test.each([
    ['not a number', 'abc'],
    ['negative', '-5'],
    ['missing', undefined],
    ['zero-padded (the signer would write it back as 60)', '060'],
  ])('presigned query: X-Amz-Expires %s is refused', async (_what, expires) => {
    const r = await verifySigV4(presigned(expires), secretFor, NOW + 1000);
    expect(!r.ok && r.error.code).toBe('AuthorizationQueryParametersError');
  });

  test('presigned query: a URL dated in the future is not yet valid (no way round the cap)', async () => {
    const r = await verifySigV4(presigned('604800', '20150930T123600Z'), secretFor, NOW);
    expect(!r.ok && r.error).toEqual({
      code: 'AccessDenied',
      message: 'Request is not yet valid.',
    });
  });

  test('presigned query: valid until X-Amz-Expires, not after', async () => {
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
    expect((await verifySigV4(request, secretFor, NOW + 30_000)).ok).toBe(true);
    const late = await verifySigV4(request, secretFor, NOW + 61_000);
    expect(!late.ok && late.error.message).toMatch(/expired/);
  });

  /**
   * A header-signed request whose signature is computed here by hand: `canonicalPath`
   * is what the client put in its canonical request (default: the path as sent).
   */
  function signedByHand(r: {
    service: 's3' | 'ec2';
    path: string;
    canonicalPath?: string;
    headers: Record<string, string>;
    signedHeaders: readonly string[];
    payloadHash: string;
  }): SignedRequest {
    const date = '20150830T123600Z';
    const scope = `20150830/us-east-1/${r.service}/aws4_request`;
    const headers: Record<string, string> = { ...r.headers, 'x-amz-date': date };
    const canonical = [
      'GET',
      r.canonicalPath ?? r.path,
      '',
      r.signedHeaders
        .map((h) => `${h}:${(headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
        .join(''),
      r.signedHeaders.join(';'),
      r.payloadHash,
    ].join('\n');
    const toSign = [
      'AWS4-HMAC-SHA256',
      date,
      scope,
      createHash('sha256').update(canonical).digest('hex'),
    ].join('\n');
    const signature = createHmac('sha256', signingKey(SECRET, '20150830', 'us-east-1', r.service))
      .update(toSign)
      .digest('hex');
    return {
      method: 'GET',
      rawPath: r.path,
      rawQuery: '',
      service: r.service,
      headers: {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${scope}, SignedHeaders=${r.signedHeaders.join(';')}, Signature=${signature}`,
      },
    };
  }
  const EMPTY = createHash('sha256').update('').digest('hex');

  test.each([
    [
      'user-agent, which the SDK never signs by itself',
      ['host', 'user-agent', 'x-amz-date'],
      'user-agent',
    ],
    ['neither x-amz-content-sha256 nor x-amz-date', ['host'], 'host'],
    [
      'a Date header besides X-Amz-Date (SignatureV4 drops date: fallback)',
      ['date', 'host', 'x-amz-date'],
      'date',
    ],
  ])(
    'verifies exactly the SignedHeaders the client listed: %s',
    async (_what, signedHeaders, changed) => {
      const headers = {
        host: 'h:1',
        'user-agent': 'aws-cli/2  x',
        date: 'Sun, 30 Aug 2015 12:36:00 GMT',
        'x-amz-date': '20150830T123600Z',
        'x-amz-content-sha256': EMPTY,
      };
      const request = signedByHand({
        service: 's3',
        path: '/b/k',
        headers,
        signedHeaders,
        payloadHash: EMPTY,
      });
      expect(await verifySigV4(request, secretFor, NOW)).toMatchObject({ ok: true });
      // Each signed header counts: the same request with it changed is refused.
      const tampered = { ...request, headers: { ...request.headers, [changed]: 'other' } };
      const r = await verifySigV4(tampered, secretFor, NOW);
      expect(!r.ok && r.error.code).toBe('SignatureDoesNotMatch');
    },
  );

  test('EC2 paths are signed normalised and encoded twice, S3 paths as sent', async () => {
    const common = {
      headers: { host: 'h:1', 'x-amz-content-sha256': EMPTY },
      signedHeaders: ['host', 'x-amz-date'],
      payloadHash: EMPTY,
    };
    const ec2 = signedByHand({
      ...common,
      service: 'ec2',
      path: '/services/./compute/a%20b',
      canonicalPath: '/services/compute/a%2520b',
    });
    expect(await verifySigV4(ec2, secretFor, NOW)).toMatchObject({ ok: true });
    const s3 = signedByHand({ ...common, service: 's3', path: '/b/a%20b/./c' });
    expect(await verifySigV4(s3, secretFor, NOW)).toMatchObject({ ok: true });
    // The other way round, each is refused.
    const asEc2 = await verifySigV4({ ...s3, service: 'ec2' }, secretFor, NOW);
    expect(!asEc2.ok && asEc2.error.code).toBe('SignatureDoesNotMatch');
  });

  test('an X-Amz-Date that is no real time is refused before any signing', async () => {
    const request = {
      ...vanilla,
      headers: { ...vanilla.headers, 'x-amz-date': '20150830T253600Z' },
    };
    const r = await verifySigV4(request, secretFor, NOW);
    expect(!r.ok && r.error.code).toBe('AccessDenied');
  });
});

// S3's complete aws-chunked example (sigv4-streaming.html): the request, its seed
// signature and the signatures of its three chunks (64 KiB, 1 KiB and the empty last
// one, all of 'a').
const CHUNKED_KEY = 'AKIAIOSFODNN7EXAMPLE';
const CHUNKED_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const CHUNK_SIGNATURES = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];
const chunkedExample: SignedRequest = {
  method: 'PUT',
  rawPath: '/examplebucket/chunkObject.txt',
  rawQuery: '',
  service: 's3',
  headers: {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
    authorization: `AWS4-HMAC-SHA256 Credential=${CHUNKED_KEY}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${SEED}`,
  },
};

function exampleBody(signatures: readonly string[] = CHUNK_SIGNATURES): Buffer {
  const data = [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'a'), Buffer.alloc(0)];
  return Buffer.concat(
    data.flatMap((d, i) => [
      Buffer.from(`${d.length.toString(16)};chunk-signature=${signatures[i] ?? ''}\r\n`),
      d,
      Buffer.from('\r\n'),
    ]),
  );
}

async function exampleAuth(): Promise<VerifiedAuth> {
  const r = await verifySigV4(
    chunkedExample,
    (id) => (id === CHUNKED_KEY ? CHUNKED_SECRET : undefined),
    Date.UTC(2013, 4, 24),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('AwsChunkedDecoder', () => {
  test("verifies S3's aws-chunked example: seed signature, then every chunk (split at awkward places)", async () => {
    const auth = await exampleAuth();
    expect(auth.seedSignature).toBe(SEED);
    const body = exampleBody();
    expect(body.length).toBe(66824);
    const pieces = [body.subarray(0, 7), body.subarray(7, 65_600), body.subarray(65_600)];
    const out = await buffer(Readable.from(pieces).pipe(new AwsChunkedDecoder(auth)));
    expect(out.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  test('refuses a chunk whose bytes were changed', async () => {
    const body = exampleBody();
    body[body.length - 200] = 0x62; // in the 1 KiB chunk
    await expect(
      buffer(Readable.from([body]).pipe(new AwsChunkedDecoder(await exampleAuth()))),
    ).rejects.toThrow(/chunk signature/);
  });

  test('refuses a chunk signature with one character changed', async () => {
    const flip = (sig: string): string => (sig.startsWith('f') ? 'e' : 'f') + sig.slice(1);
    const body = exampleBody(CHUNK_SIGNATURES.map((sig, i) => (i === 1 ? flip(sig) : sig)));
    await expect(
      buffer(Readable.from([body]).pipe(new AwsChunkedDecoder(await exampleAuth()))),
    ).rejects.toThrow(/chunk signature/);
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
