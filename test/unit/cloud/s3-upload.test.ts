// uploadBundle and deleteBundle against an in-memory object store: order, parallelism,
// resume by MD5, retries, integrity, permanent failures, progress.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSignedManifest } from '../../../src/bundle/manifest.js';
import { deleteBundle, uploadBundle, bundleKey } from '../../../src/cloud/s3-upload.js';
import { failure, memoryStore } from '../../helpers/fake-cloud.js';

const signal = new AbortController().signal;
const FAST = { baseDelayMs: 1, maxDelayMs: 2 };
let dir: string;
let manifestPath: string;
const PARTS = 6;
const partName = (i: number): string => `img.part.0${i}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emi-upload-unit-'));
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < PARTS; i++)
    await writeFile(join(dir, partName(i)), Buffer.alloc(1000 + i, i));
  const text = renderSignedManifest(
    {
      bundler: { name: 't', version: '0', release: '0' },
      machineConfiguration: { architecture: 'x86_64' },
      image: {
        name: 'img',
        user: '123456789012',
        type: 'machine',
        digest: '0'.repeat(40),
        size: 1,
        bundledSize: 1,
        ec2EncryptedKey: 'aa',
        userEncryptedKey: 'aa',
        ec2EncryptedIv: 'aa',
        userEncryptedIv: 'aa',
        parts: Array.from({ length: PARTS }, (_, i) => ({
          filename: partName(i),
          digest: '0'.repeat(40),
        })),
      },
    },
    undefined,
  );
  manifestPath = join(dir, 'img.manifest.xml');
  await writeFile(manifestPath, text, 'latin1');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleKey', () => {
  test.each([
    ['', 'a.part.00', 'a.part.00'],
    ['p', 'a.part.00', 'p/a.part.00'],
    ['/p/q/', 'a.part.00', 'p/q/a.part.00'],
  ])('prefix %j + %s -> %s', (prefix, file, key) => {
    expect(bundleKey(prefix, file)).toBe(key);
  });
});

describe('uploadBundle', () => {
  test('creates the bucket, sends parts in parallel (bounded) and the manifest last, with the ACL', async () => {
    const store = memoryStore();
    const progress: number[] = [];
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: 'p',
      manifestPath,
      concurrency: 3,
      signal,
      onProgress: (u) => progress.push(u.done),
    });
    expect(result.ok).toBe(true);
    expect(store.buckets.has('b')).toBe(true);
    expect(store.putLog.at(-1)).toBe('p/img.manifest.xml');
    expect(store.putLog).toHaveLength(PARTS + 1);
    expect(store.maxInFlight()).toBeGreaterThan(1);
    expect(store.maxInFlight()).toBeLessThanOrEqual(3);
    expect(
      [...(store.buckets.get('b')?.values() ?? [])].every((o) => o.acl === 'aws-exec-read'),
    ).toBe(true);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(result.ok ? result.value.bytesTotal : -1);
  });

  test('resume: objects whose ETag is the local MD5 are skipped, others (and changed ones) sent', async () => {
    const store = memoryStore();
    await uploadBundle({ store, bucket: 'b', prefix: 'p', manifestPath, signal });
    const stored = store.buckets.get('b')!;
    stored.delete('p/img.part.03');
    stored.delete('p/img.manifest.xml');
    stored.set('p/img.part.01', { body: new Uint8Array([9]), etag: 'bogus', acl: 'aws-exec-read' });
    store.putLog.length = 0;
    const again = await uploadBundle({ store, bucket: 'b', prefix: 'p', manifestPath, signal });
    expect(again.ok && again.value.sent).toEqual([
      'p/img.part.01',
      'p/img.part.03',
      'p/img.manifest.xml',
    ]);
    expect(again.ok && again.value.skipped).toEqual([
      'p/img.part.00',
      'p/img.part.02',
      'p/img.part.04',
      'p/img.part.05',
    ]);
    expect(again.ok && again.value.bytesSent).toBe(
      1001 + 1003 + (again.ok ? again.value.bytesTotal - 6015 : 0),
    );
  });

  test('retries throttling, 5xx and corrupted uploads, then succeeds', async () => {
    const store = memoryStore();
    store.onPut = (key, attempt) => {
      if (key.endsWith('00') && attempt === 1)
        return failure('throttled', { code: 'SlowDown', httpStatus: 503 });
      if (key.endsWith('01') && attempt < 3) return failure('server-error', { httpStatus: 500 });
      if (key.endsWith('02') && attempt === 1) return 'corrupt';
      return undefined;
    };
    const lines: string[] = [];
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: '',
      manifestPath,
      signal,
      retry: FAST,
      log: (l) => lines.push(l),
    });
    expect(result.ok).toBe(true);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(4);
    expect(lines.some((l) => l.includes('integrity'))).toBe(true);
  });

  test('a permanent failure (bad credentials) is not retried and stops the upload before the manifest', async () => {
    const store = memoryStore();
    let calls = 0;
    store.onPut = () => {
      calls += 1;
      return failure('auth-failure', { code: 'SignatureDoesNotMatch', httpStatus: 403 });
    };
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: '',
      manifestPath,
      concurrency: 2,
      signal,
      retry: FAST,
    });
    expect(!result.ok && result.error.reason).toBe('auth-failure');
    expect(calls).toBeLessThanOrEqual(2);
    expect(store.putLog).not.toContain('img.manifest.xml');
  });

  test('retries run out: server-error with the attempt count', async () => {
    const store = memoryStore();
    store.onPut = () => failure('server-error', { httpStatus: 503 });
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: '',
      manifestPath,
      concurrency: 1,
      signal,
      retry: { ...FAST, attempts: 3 },
    });
    expect(!result.ok && result.error).toMatchObject({ reason: 'server-error', attempts: 3 });
  });

  test('a missing part file fails before anything is sent', async () => {
    const store = memoryStore();
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: '',
      manifestPath,
      partsDir: join(dir, 'nowhere'),
      signal,
    });
    expect(!result.ok && result.error).toMatchObject({ reason: 'local-file', code: 'ENOENT' });
    expect(store.buckets.size).toBe(0);
  });

  test('a part that is a symlink (to /dev/zero), or a manifest that is a directory, is refused before anything is sent', async () => {
    const hostile = join(dir, 'hostile');
    await mkdir(hostile);
    for (let i = 1; i < PARTS; i++)
      await writeFile(join(hostile, partName(i)), Buffer.alloc(1000 + i, i));
    await symlink('/dev/zero', join(hostile, partName(0)));
    const store = memoryStore();
    const upload = (m: string, parts: string): ReturnType<typeof uploadBundle> =>
      uploadBundle({ store, bucket: 'b', prefix: '', manifestPath: m, partsDir: parts, signal });
    const linked = await upload(manifestPath, hostile);
    expect(!linked.ok && linked.error).toMatchObject({
      reason: 'local-file',
      path: join(hostile, partName(0)),
      code: 'a symbolic link, not a regular file',
    });
    await mkdir(join(hostile, 'dir.manifest.xml'));
    const dirManifest = await upload(join(hostile, 'dir.manifest.xml'), dir);
    expect(!dirManifest.ok && dirManifest.error).toMatchObject({
      code: 'a directory, not a regular file',
    });
    expect(store.buckets.size).toBe(0);
  });

  test('a bucket check failure is reported as is', async () => {
    const store = memoryStore();
    store.bucketFailure = failure('auth-failure', {
      code: 'InvalidAccessKeyId',
      operation: 'ListObjectsV2',
    });
    const result = await uploadBundle({ store, bucket: 'b', prefix: '', manifestPath, signal });
    expect(!result.ok && result.error.code).toBe('InvalidAccessKeyId');
  });

  test('an aborted signal ends the upload as canceled, without the manifest', async () => {
    const store = memoryStore();
    const controller = new AbortController();
    store.onPut = (key) => {
      if (key.endsWith('01')) controller.abort();
      return undefined;
    };
    const result = await uploadBundle({
      store,
      bucket: 'b',
      prefix: '',
      manifestPath,
      concurrency: 1,
      signal: controller.signal,
    });
    expect(!result.ok && result.error.reason).toBe('canceled');
    expect(store.putLog).not.toContain('img.manifest.xml');
  });
});

describe('deleteBundle', () => {
  test('deletes the parts the stored manifest lists, then the manifest; repeatable', async () => {
    const store = memoryStore();
    await uploadBundle({ store, bucket: 'b', prefix: 'p', manifestPath, signal });
    store.buckets.get('b')?.set('p/other', { body: new Uint8Array(), etag: '', acl: 'private' });
    const deleted = await deleteBundle({
      store,
      bucket: 'b',
      prefix: 'p',
      manifestName: 'img.manifest.xml',
      signal,
    });
    expect(deleted.ok && deleted.value.deleted).toHaveLength(PARTS + 1);
    expect([...(store.buckets.get('b')?.keys() ?? [])]).toEqual(['p/other']);
    const again = await deleteBundle({
      store,
      bucket: 'b',
      prefix: 'p',
      manifestName: 'img.manifest.xml',
      signal,
    });
    expect(again.ok && again.value.deleted).toEqual([]);
  });
});
