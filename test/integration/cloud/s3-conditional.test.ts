// Conditional requests against the embedded cloud over real HTTP, signed by the AWS SDK:
// If-None-Match: * creates (two at once: exactly one 200, one 412 PreconditionFailed
// naming the condition), If-Match compare-and-swap (a stale ETag 412, a missing key 404),
// an ETag S3 does not implement on writes (501), and GET/HEAD If-Match / If-None-Match /
// If-Modified-Since (412 / 304); the conditional-write probe's verdict on this server.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { probeConditionalWrites } from '../../../src/cloud/conditional-writes.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(120_000);
const BUCKET = 'conditional';
let t: TestCloud;

beforeAll(async () => {
  t = await startTestCloud();
  await t.clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await t.stop();
});

/** 'ok <etag>' or '<error name> <status> <Condition>' of an SDK call. */
async function outcome(send: () => Promise<{ ETag?: string }>): Promise<string> {
  try {
    const out = await send();
    return `ok ${out.ETag ?? ''}`;
  } catch (error) {
    const e = error as {
      name?: string;
      Condition?: string;
      $metadata?: { httpStatusCode?: number };
    };
    return `${e.name ?? '?'} ${String(e.$metadata?.httpStatusCode)} ${e.Condition ?? ''}`.trim();
  }
}

const put = (Key: string, Body: string, extra: { IfNoneMatch?: string; IfMatch?: string } = {}) =>
  outcome(() => t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra })));

async function read(Key: string): Promise<string> {
  const got = await t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return (await got.Body?.transformToString()) ?? '';
}

describe('conditional PutObject', () => {
  test('two concurrent If-None-Match: * creates of one key: exactly one 200, one 412', async () => {
    const results = await Promise.all([
      put('lock', 'runner A', { IfNoneMatch: '*' }),
      put('lock', 'runner B', { IfNoneMatch: '*' }),
    ]);
    const winners = results.filter((r) => r.startsWith('ok '));
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.startsWith('ok '))).toEqual([
      'PreconditionFailed 412 If-None-Match',
    ]);
    const holder = await read('lock');
    expect(['runner A', 'runner B']).toContain(holder);
    expect(await put('lock', 'runner C', { IfNoneMatch: '*' })).toBe(
      'PreconditionFailed 412 If-None-Match',
    );
    expect(await read('lock')).toBe(holder);
  });

  test('If-Match: the current ETag replaces, a stale one is 412, a missing key 404', async () => {
    const v1 = (await put('state', 'serial 1')).slice(3);
    const v2 = await put('state', 'serial 2', { IfMatch: v1 });
    expect(v2).toMatch(/^ok "[0-9a-f]{32}"$/);
    expect(await put('state', 'serial 2 from a stale runner', { IfMatch: v1 })).toBe(
      'PreconditionFailed 412 If-Match',
    );
    expect(await read('state')).toBe('serial 2');
    expect(await put('never-written', 'x', { IfMatch: v1 })).toBe('NoSuchKey 404');
  });

  test('If-None-Match with an ETag is not implemented on writes (501), as on S3', async () => {
    expect(await put('other', 'x', { IfNoneMatch: '"abc"' })).toBe('NotImplemented 501');
  });
});

describe('conditional GetObject and HeadObject', () => {
  test('If-Match stale → 412; If-None-Match current → 304; If-Modified-Since later → 304', async () => {
    const etag = (await put('read', 'body')).slice(3);
    const get = (extra: Record<string, unknown>) =>
      outcome(() =>
        t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'read', ...extra })),
      );
    const head = (extra: Record<string, unknown>) =>
      outcome(() =>
        t.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'read', ...extra })),
      );
    expect(await get({ IfMatch: etag })).toBe(`ok ${etag}`);
    expect(await get({ IfMatch: '"0123"' })).toBe('PreconditionFailed 412 If-Match');
    expect(await get({ IfNoneMatch: etag })).toMatch(/^\S+ 304$/);
    expect(await get({ IfNoneMatch: '"0123"' })).toBe(`ok ${etag}`);
    expect(await get({ IfModifiedSince: new Date(Date.now() + 60_000) })).toMatch(/^\S+ 304$/);
    expect(await get({ IfModifiedSince: new Date(Date.now() - 3_600_000) })).toBe(`ok ${etag}`);
    expect(await head({ IfMatch: '"0123"' })).toMatch(/^\S+ 412$/);
    expect(await head({ IfNoneMatch: etag })).toMatch(/^\S+ 304$/);
  });
});

describe('probeConditionalWrites', () => {
  test('finds that the embedded cloud honours If-None-Match and leaves no probe key', async () => {
    const endpoint = t.cloud.endpoints.s3;
    const probe = await probeConditionalWrites(t.clients.s3, {
      bucket: BUCKET,
      prefix: 'probe/',
      endpoint,
    });
    expect(probe.ok && probe.value).toMatchObject({
      endpoint,
      honoured: true,
      secondCreate: { kind: 'refused', httpStatus: 412, code: 'PreconditionFailed' },
    });
    expect(probe.ok && probe.value.cleanupFailure).toBeUndefined();
    const left = await t.clients.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'probe/' }),
    );
    expect(left.KeyCount).toBe(0);
  });
});
