// SigV4 over real HTTP, from clients that sign on their own: the AWS SDK (S3 and EC2;
// the same requests with one character of the signature changed are refused), presigned
// URLs made by the SDK's signer as @aws-sdk/s3-request-presigner makes them and by awscli
// (botocore), valid until they expire; awscli's EC2 signing; an aws-chunked upload signed
// chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), and one with a chunk changed; the
// same for an UploadPart (its partNumber and uploadId signed in the query).
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createCloudClients } from '../../../src/cloud/clients.js';
import { runAwsCli, startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(120_000);
const BUCKET = 'sigv4';
/** Added to the real time by the cloud's clock (to let presigned URLs expire). */
let offsetMs = 0;
let t: TestCloud;

beforeAll(async () => {
  t = await startTestCloud({ now: () => Date.now() + offsetMs });
  await t.clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'hello' }));
});
afterAll(async () => {
  await t.stop();
});

/** The SDK's own answer, or the error it threw: name, HTTP status and message. */
async function outcome(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name ?? '?'} ${String(e.$metadata?.httpStatusCode)} ${e.message ?? ''}`;
  }
}

/**
 * A deserialize-step middleware (it runs after finalizeRequest, where the SDK signs, just
 * before sending) that changes the first character of the request's signature.
 */
function tamperSignature<A extends { request: unknown }, R>(
  next: (args: A) => Promise<R>,
): (args: A) => Promise<R> {
  return (args) => {
    const request = args.request as { headers: Record<string, string | undefined> };
    request.headers.authorization = (request.headers.authorization ?? '').replace(
      /Signature=(.)/,
      (_all, c: string) => `Signature=${c === '0' ? '1' : '0'}`,
    );
    return next(args);
  };
}
const TAMPER = { step: 'deserialize', name: 'tamperSignature' } as const;

describe('requests signed by the AWS SDK', () => {
  test('pass; the same with one character of the signature changed → SignatureDoesNotMatch', async () => {
    const get = new GetObjectCommand({ Bucket: BUCKET, Key: 'k' });
    const describeImages = new DescribeImagesCommand({ Owners: ['self'] });
    expect(await outcome(() => t.clients.s3.send(get))).toBe('ok');
    expect(await outcome(() => t.clients.ec2.send(describeImages))).toBe('ok');
    const tampered = createCloudClients(t.target, { maxAttempts: 1 });
    try {
      tampered.s3.middlewareStack.add(tamperSignature, TAMPER);
      tampered.ec2.middlewareStack.add(tamperSignature, TAMPER);
      expect(await outcome(() => tampered.s3.send(get))).toMatch(/^SignatureDoesNotMatch 403 /);
      const put = new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'replaced' });
      expect(await outcome(() => tampered.s3.send(put))).toMatch(/^SignatureDoesNotMatch 403 /);
      expect(await outcome(() => tampered.ec2.send(describeImages))).toMatch(
        /^AuthFailure 401 SignatureDoesNotMatch: /,
      );
    } finally {
      tampered.destroy();
    }
    const body = await t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }));
    expect(await body.Body?.transformToString()).toBe('hello');
  });

  test('awscli (botocore) signs EC2 requests its own way (body hash, no x-amz-content-sha256)', async () => {
    const r = await runAwsCli(t.cloud, [
      '--endpoint-url',
      t.cloud.endpoints.ec2,
      'ec2',
      'describe-images',
      '--owners',
      'self',
    ]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ Images: [] });
  });
});

async function fetchStatus(url: string): Promise<[number, string]> {
  const response = await fetch(url);
  const text = await response.text();
  return [response.status, /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? text];
}

describe('presigned URLs', () => {
  test("made by the SDK's signer as @aws-sdk/s3-request-presigner does: valid until they expire", async () => {
    const { accessKeyId, secretAccessKey } = t.cloud.credentials;
    const signer = new SignatureV4({
      service: 's3',
      region: t.cloud.region,
      credentials: { accessKeyId, secretAccessKey },
      sha256: t.clients.s3.config.sha256,
      uriEscapePath: false,
    });
    const host = `127.0.0.1:${t.cloud.port}`;
    const presigned = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: t.cloud.port,
        path: `/${BUCKET}/k`,
        query: { 'x-id': 'GetObject' },
        // As the presigner: the payload is UNSIGNED-PAYLOAD, and the header goes to the query.
        headers: { host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      },
      { expiresIn: 60, unsignableHeaders: new Set(['content-type']) },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
    const url = `http://${host}${presigned.path}?${query}`;
    expect(url).toContain('X-Amz-Content-Sha256=UNSIGNED-PAYLOAD');
    expect(await fetchStatus(url)).toEqual([200, 'hello']);
    const tampered = url.replace(/X-Amz-Signature=(.)/, (_all, c: string) =>
      c === '0' ? 'X-Amz-Signature=1' : 'X-Amz-Signature=0',
    );
    expect(await fetchStatus(tampered)).toEqual([403, 'SignatureDoesNotMatch']);
    offsetMs = 61_000;
    try {
      expect(await fetchStatus(url)).toEqual([403, 'AccessDenied']);
    } finally {
      offsetMs = 0;
    }
  });

  test('made by awscli (botocore): valid until they expire', async () => {
    const r = await runAwsCli(t.cloud, ['s3', 'presign', `s3://${BUCKET}/k`, '--expires-in', '60']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const url = r.stdout.trim();
    expect(url).toContain('X-Amz-Signature=');
    expect(await fetchStatus(url)).toEqual([200, 'hello']);
    offsetMs = 61_000;
    try {
      expect(await fetchStatus(url)).toEqual([403, 'AccessDenied']);
    } finally {
      offsetMs = 0;
    }
  });
});

/**
 * PUTs `data` as aws-chunked with chunk signatures: the seed signed by SignatureV4 over the
 * headers, each chunk signed with the SDK's event signing (the same string to sign:
 * AWS4-HMAC-SHA256-PAYLOAD, date, scope, previous signature, hash of no headers, hash of
 * the chunk). `change` alters the wire body after signing.
 */
async function putSignedChunks(
  key: string,
  chunks: readonly Buffer[],
  options: {
    readonly change?: (body: Buffer) => void;
    /** Query parameters (UploadPart's partNumber and uploadId), signed and sent. */
    readonly query?: Readonly<Record<string, string>>;
  } = {},
): Promise<[number, string]> {
  const query = options.query ?? {};
  const change = options.change ?? ((): void => undefined);
  const { accessKeyId, secretAccessKey } = t.cloud.credentials;
  const signer = new SignatureV4({
    service: 's3',
    region: t.cloud.region,
    credentials: { accessKeyId, secretAccessKey },
    sha256: t.clients.s3.config.sha256,
    uriEscapePath: false,
  });
  const signingDate = new Date();
  const decoded = chunks.reduce((n, c) => n + c.length, 0);
  const sizeLine = (c: Buffer): number => `${c.length.toString(16)};chunk-signature=`.length + 66;
  const wireLength = [...chunks, Buffer.alloc(0)].reduce(
    (n, c) => n + sizeLine(c) + c.length + 2,
    0,
  );
  const path = `/${BUCKET}/${key}`;
  const signed = await signer.sign(
    {
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query,
      headers: {
        host: `127.0.0.1:${t.cloud.port}`,
        'content-encoding': 'aws-chunked',
        'content-length': String(wireLength),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(decoded),
      },
    },
    { signingDate },
  );
  let previous = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  const wire: Buffer[] = [];
  for (const chunk of [...chunks, Buffer.alloc(0)]) {
    previous = await signer.sign(
      { headers: new Uint8Array(0), payload: chunk },
      { signingDate, priorSignature: previous },
    );
    wire.push(
      Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`),
      chunk,
      Buffer.from('\r\n'),
    );
  }
  const body = Buffer.concat(wire);
  expect(body.length).toBe(wireLength);
  change(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: t.cloud.port,
        method: 'PUT',
        path:
          Object.keys(query).length > 0 ? `${path}?${new URLSearchParams(query).toString()}` : path,
        headers: signed.headers,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          resolve([res.statusCode ?? 0, /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? text]);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('aws-chunked uploads signed chunk by chunk', () => {
  test('are stored as their decoded bytes; a changed chunk → SignatureDoesNotMatch, nothing stored', async () => {
    const data = randomBytes(70_000);
    const chunks = [data.subarray(0, 65_536), data.subarray(65_536)];
    expect(await putSignedChunks('chunked', chunks)).toEqual([200, '']);
    const back = await t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked' }));
    expect(Buffer.from((await back.Body?.transformToByteArray()) ?? []).equals(data)).toBe(true);
    const changed = await putSignedChunks('changed', chunks, {
      change: (body) => {
        body[body.length - 100] = (body[body.length - 100] ?? 0) ^ 1; // in the second chunk
      },
    });
    expect(changed).toEqual([403, 'SignatureDoesNotMatch']);
    const missing = await outcome(() =>
      t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'changed' })),
    );
    expect(missing).toMatch(/^NoSuchKey 404/);
  });
});

describe('UploadPart as aws-chunked signed chunk by chunk', () => {
  test('the part is its decoded bytes; a changed chunk → SignatureDoesNotMatch, no part', async () => {
    const created = await t.clients.s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'chunked-parts' }),
    );
    const uploadId = created.UploadId ?? '';
    const data = randomBytes(70_000);
    const chunks = [data.subarray(0, 65_536), data.subarray(65_536)];
    const part = (partNumber: string, change?: (body: Buffer) => void) =>
      putSignedChunks('chunked-parts', chunks, {
        query: { partNumber, uploadId },
        ...(change ? { change } : {}),
      });
    expect(await part('1')).toEqual([200, '']);
    expect(
      await part('2', (body) => {
        body[body.length - 100] = (body[body.length - 100] ?? 0) ^ 1;
      }),
    ).toEqual([403, 'SignatureDoesNotMatch']);
    const parts = await t.clients.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'chunked-parts', UploadId: uploadId }),
    );
    const md5 = createHash('md5').update(data).digest('hex');
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 70_000, `"${md5}"`],
    ]);
  });
});
