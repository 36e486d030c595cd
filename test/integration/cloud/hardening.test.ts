// What the local cloud refuses or keeps private, over real HTTP: PUTs over its size
// limit (before their body, and while streaming one of unknown size), S3-invalid bucket
// names, presigned URLs living longer than 7 days, malformed paths; data dir and files
// private to the user; object keys that look like paths stay inside the data dir.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createHash, createHmac } from 'node:crypto';
import { signV2, stringToSignV2 } from '../../../src/local-cloud/sigv2.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(120_000);
const LIMIT = 4096;
let t: TestCloud;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'emi-hardening-'));
  const dataDir = join(root, 'data');
  // A data dir left by an older version, readable by everyone: tightened on start.
  await mkdir(dataDir, { mode: 0o755 });
  t = await startTestCloud({ dataDir, maxObjectSize: LIMIT });
});
afterAll(async () => {
  await t.stop();
  await rm(root, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly continued: boolean;
}

/** Starts a SigV2-signed request to the S3 root (path-style); the caller writes the body. */
function start(
  method: string,
  path: string,
  headers: Record<string, string>,
): { req: ClientRequest; answer: Promise<Answer> } {
  const date = new Date().toUTCString();
  const all: Record<string, string> = { date, ...headers };
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  const toSign = stringToSignV2(
    { method, resourcePath: path, rawQuery: '', headers: lower },
    date,
    path,
  );
  const { accessKeyId, secretAccessKey } = t.cloud.credentials;
  all.authorization = `AWS ${accessKeyId}:${signV2(secretAccessKey, toSign)}`;
  let continued = false;
  const req = httpRequest({ host: '127.0.0.1', port: t.cloud.port, method, path, headers: all });
  req.on('continue', () => {
    continued = true;
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, continued });
      });
    });
    // Writing into a connection the server closed after answering: the answer decides.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
  });
  return { req, answer };
}

async function send(method: string, path: string, body = '', headers: Record<string, string> = {}) {
  const { req, answer } = start(method, path, {
    'content-length': String(body.length),
    ...headers,
  });
  req.end(body);
  return answer;
}

/** Rejects when `promise` takes longer than `ms` (the old code waited for a body forever). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const code = (a: Answer): string =>
  /<Code>([^<]*)<\/Code>/.exec(a.body)?.[1] ?? `(status ${a.status})`;

describe('object size limit', () => {
  beforeAll(async () => {
    expect((await send('PUT', '/sizes')).status).toBe(200);
  });

  test('a PUT within the limit is stored', async () => {
    expect((await send('PUT', '/sizes/fits', 'x'.repeat(LIMIT))).status).toBe(200);
  });

  test('a larger Content-Length is refused at once, without waiting for the body', async () => {
    const { req, answer } = start('PUT', '/sizes/big', { 'content-length': String(LIMIT + 1) });
    req.flushHeaders(); // headers only: the body never comes
    const a = await within(10_000, answer);
    req.destroy();
    expect([a.status, code(a), a.headers.connection]).toEqual([400, 'EntityTooLarge', 'close']);
    expect(a.body).toContain(`maximum allowed object size of ${LIMIT} bytes`);
  });

  test('with Expect: 100-continue the body is not even invited', async () => {
    const { req, answer } = start('PUT', '/sizes/big', {
      'content-length': String(LIMIT + 1),
      expect: '100-continue',
    });
    req.flushHeaders();
    const a = await within(10_000, answer);
    req.destroy();
    expect([a.status, code(a), a.continued]).toEqual([400, 'EntityTooLarge', false]);
  });

  test('a body of unannounced size (HTTP chunked) is cut off once past the limit', async () => {
    const { req, answer } = start('PUT', '/sizes/streamed', { 'transfer-encoding': 'chunked' });
    for (let i = 0; i < 16; i++) req.write('y'.repeat(1024));
    req.end();
    const a = await within(10_000, answer);
    expect([a.status, code(a)]).toEqual([400, 'EntityTooLarge']);
    const head = await send('HEAD', '/sizes/streamed');
    expect(head.status).toBe(404);
  });

  test('x-amz-decoded-content-length over the limit is refused too', async () => {
    const { req, answer } = start('PUT', '/sizes/chunked', {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(LIMIT + 1),
      'content-length': '10',
    });
    req.flushHeaders();
    const a = await within(10_000, answer);
    req.destroy();
    expect([a.status, code(a)]).toEqual([400, 'EntityTooLarge']);
  });
});

describe('signatures', () => {
  test('a repeated x-amz-* header is signed as its values joined with "," (no space)', async () => {
    expect((await send('PUT', '/repeated')).status).toBe(200);
    const date = new Date().toUTCString();
    const toSign = `PUT\n\n\n${date}\nx-amz-meta-who:ann,bob\n/repeated/k`;
    const { accessKeyId, secretAccessKey } = t.cloud.credentials;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: t.cloud.port,
          method: 'PUT',
          path: '/repeated/k',
          headers: {
            date,
            'content-length': '2',
            'x-amz-meta-who': ['ann', 'bob'],
            authorization: `AWS ${accessKeyId}:${signV2(secretAccessKey, toSign)}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('hi');
    });
    expect(status).toBe(200);
  });
});

describe('bucket names as S3 names them', () => {
  test.each([
    ['a..b', /two adjacent periods/],
    ['192.168.1.2', /IP address/],
    ['Upper', /.U.* is not allowed/],
    ['xn--bucket', /reserved/],
  ])('%s is refused with InvalidBucketName', async (name, why) => {
    const a = await send('PUT', `/${name}`);
    expect([a.status, code(a)]).toEqual([400, 'InvalidBucketName']);
    expect(a.body).toMatch(why);
    expect((await send('HEAD', `/${name}`)).status).toBe(404);
  });
});

describe('presigned URLs', () => {
  test('live at most 7 days: X-Amz-Expires over 604800 is refused', async () => {
    expect((await send('PUT', '/presigned')).status).toBe(200);
    expect((await send('PUT', '/presigned/k', 'hello')).status).toBe(200);
    const url = presign('/presigned/k', 604800);
    const ok = await fetch(url);
    expect([ok.status, await ok.text()]).toEqual([200, 'hello']);
    const longer = await fetch(url.replace('X-Amz-Expires=604800', 'X-Amz-Expires=999999'));
    const text = await longer.text();
    expect([longer.status, /<Code>([^<]*)</.exec(text)?.[1]]).toEqual([
      400,
      'AuthorizationQueryParametersError',
    ]);
    expect(text).toContain('less than a week');
  });
});

describe('paths', () => {
  test('a malformed % escape in the path is a 400 InvalidURI, not a server error', async () => {
    const a = await send('GET', '/presigned/%E0%A4%A');
    expect([a.status, code(a)]).toEqual([400, 'InvalidURI']);
  });

  test('keys shaped like paths are stored inside the data dir and read back', async () => {
    expect((await send('PUT', '/keys')).status).toBe(200);
    for (const key of ['../../escaped', '..%2F..%2F..%2Fescaped2', '%2Fetc%2Fescaped3'])
      expect((await send('PUT', `/keys/${key}`, `data of ${key}`)).status).toBe(200);
    const files = await listFiles(root);
    expect(files.filter((f) => /escaped/.test(f))).toEqual([]);
    expect(files.every((f) => f.startsWith('data/'))).toBe(true);
    const back = await send('GET', '/keys/../../escaped');
    expect([back.status, back.body]).toEqual([200, 'data of ../../escaped']);
  });
});

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();
/** The SigV4 signing key (AWS's HMAC chain), computed here independently of the cloud. */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** A SigV4 presigned GET URL for `path`, as SDKs make them (AWS's query-string auth). */
function presign(path: string, expires: number): string {
  const { accessKeyId, secretAccessKey } = t.cloud.credentials;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const scope = `${amzDate.slice(0, 8)}/local/s3/aws4_request`;
  const host = `127.0.0.1:${t.cloud.port}`;
  const query = [
    'X-Amz-Algorithm=AWS4-HMAC-SHA256',
    `X-Amz-Credential=${encodeURIComponent(`${accessKeyId}/${scope}`)}`,
    `X-Amz-Date=${amzDate}`,
    `X-Amz-Expires=${expires}`,
    'X-Amz-SignedHeaders=host',
  ].join('&');
  const canonical = ['GET', path, query, `host:${host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key = signingKey(secretAccessKey, amzDate.slice(0, 8), 'local', 's3');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `http://${host}${path}?${query}&X-Amz-Signature=${signature}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) out.push(relative(root, join(entry.parentPath, entry.name)));
  return out;
}

describe('the data dir is private to its user', () => {
  test('directories 0700, files 0600 (an older 0755 data dir is tightened)', async () => {
    expect((await send('PUT', '/private')).status).toBe(200);
    expect((await send('PUT', '/private/secret', 'do not read')).status).toBe(200);
    const modes: Record<string, string> = {};
    for (const entry of await readdir(t.dataDir, { withFileTypes: true, recursive: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!/\/s3\//.test(path) && !/(identity|server)\.json$/.test(path)) continue;
      modes[relative(t.dataDir, path)] = ((await stat(path)).mode & 0o777).toString(8);
    }
    modes['.'] = ((await stat(t.dataDir)).mode & 0o777).toString(8);
    const wrong = Object.entries(modes).filter(
      ([path, mode]) => mode !== (path === '.' || !/\.[a-z]+$/.test(path) ? '700' : '600'),
    );
    expect(wrong).toEqual([]);
    expect(Object.keys(modes).filter((p) => p.endsWith('.data')).length).toBeGreaterThan(0);
    expect(
      Object.keys(modes).filter((p) => p.startsWith('s3/private/objects/') && p.endsWith('.json')),
    ).toHaveLength(1);
  });
});
