// The step cache's transport: a sparse file to one gzip blob and back, over an in-memory
// S3 with multipart semantics (the real file system, perl's SEEK_DATA, real gzip): holes
// are not sent, parts are retried, a failed upload is aborted and leaves no object, a
// corrupt, truncated or mismatched blob is refused and leaves no file. Then the same over
// real HTTP against the embedded cloud (SDK multipart upload, streamed GET).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, test } from '@jest/globals';
import { err, ok, type Result } from '../../../src/core/result.js';
import type { CloudFailure } from '../../../src/cloud/aws-errors.js';
import { CreateBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import {
  sdkBlobObjects,
  type BlobObjects,
  type UploadedPart,
} from '../../../src/cloud/blob-objects.js';
import { startTestCloud } from '../../helpers/local-cloud.js';
import { blobKey, getBlob, putBlob } from '../../../src/cloud/blob-transfer.js';
import { exec } from '../../../src/tools/exec.js';

const MIB = 1024 * 1024;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'emi-blob-'));
  dirs.push(d);
  return d;
}

const serverError = (operation: string): CloudFailure => ({
  reason: 'server-error',
  attempts: 1,
  endpoint: 'memory',
  service: 's3',
  operation,
  httpStatus: 500,
});

/** An S3 bucket in memory: objects appear only whole (PUT, or Complete of an upload). */
class MemoryBlobs implements BlobObjects {
  readonly where = 'memory bucket';
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  readonly calls: string[] = [];
  /** Fails the named operation this many more times. */
  readonly faults = new Map<string, number>();
  /** The next GET bodies break after this many bytes (a dropped connection). */
  dropGetsAfter: number[] = [];

  #fault(operation: string): CloudFailure | undefined {
    this.calls.push(operation);
    const left = this.faults.get(operation) ?? 0;
    if (left <= 0) return undefined;
    this.faults.set(operation, left - 1);
    return serverError(operation);
  }
  head(key: string): Promise<Result<{ size: number } | undefined, CloudFailure>> {
    const f = this.#fault('HeadObject');
    if (f) return Promise.resolve(err(f));
    const o = this.objects.get(key);
    return Promise.resolve(ok(o ? { size: o.length } : undefined));
  }
  put(key: string, body: Uint8Array, md5: string): Promise<Result<void, CloudFailure>> {
    const f = this.#fault('PutObject');
    if (f) return Promise.resolve(err(f));
    expect(createHash('md5').update(body).digest('base64')).toBe(md5);
    this.objects.set(key, Buffer.from(body));
    return Promise.resolve(ok(undefined));
  }
  startUpload(key: string): Promise<Result<string, CloudFailure>> {
    const f = this.#fault('CreateMultipartUpload');
    if (f) return Promise.resolve(err(f));
    const id = `u${this.uploads.size + 1}`;
    this.uploads.set(id, { key, parts: new Map() });
    return Promise.resolve(ok(id));
  }
  putPart(
    _key: string,
    uploadId: string,
    n: number,
    body: Uint8Array,
    md5: string,
  ): Promise<Result<string, CloudFailure>> {
    const f = this.#fault('UploadPart');
    if (f) return Promise.resolve(err(f));
    expect(createHash('md5').update(body).digest('base64')).toBe(md5);
    this.uploads.get(uploadId)?.parts.set(n, Buffer.from(body));
    return Promise.resolve(ok(createHash('md5').update(body).digest('hex')));
  }
  completeUpload(
    key: string,
    uploadId: string,
    parts: readonly UploadedPart[],
  ): Promise<Result<void, CloudFailure>> {
    const f = this.#fault('CompleteMultipartUpload');
    if (f) return Promise.resolve(err(f));
    const upload = this.uploads.get(uploadId);
    if (!upload)
      return Promise.resolve(
        err({ ...serverError('CompleteMultipartUpload'), reason: 'not-found' }),
      );
    expect(parts.map((p) => p.partNumber)).toEqual([...upload.parts.keys()].sort((a, b) => a - b));
    this.objects.set(
      key,
      Buffer.concat(parts.map((p) => upload.parts.get(p.partNumber) ?? Buffer.alloc(0))),
    );
    this.uploads.delete(uploadId);
    return Promise.resolve(ok(undefined));
  }
  abortUpload(_key: string, uploadId: string): Promise<Result<void, CloudFailure>> {
    this.calls.push('AbortMultipartUpload');
    this.uploads.delete(uploadId);
    return Promise.resolve(ok(undefined));
  }
  get(key: string): Promise<Result<Readable, CloudFailure>> {
    const f = this.#fault('GetObject');
    if (f) return Promise.resolve(err(f));
    const o = this.objects.get(key);
    if (!o) return Promise.resolve(err({ ...serverError('GetObject'), reason: 'not-found' }));
    const dropAfter = this.dropGetsAfter.shift();
    if (dropAfter === undefined) return Promise.resolve(ok(Readable.from([o])));
    const broken = new Readable({ read() {} });
    broken.push(o.subarray(0, dropAfter));
    setImmediate(() =>
      broken.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    );
    return Promise.resolve(ok(broken));
  }
}

/** A 24 MiB sparse file: 7 MiB of random data at 8 MiB, holes around it. */
async function sparseFile(dir: string): Promise<{ path: string; sha256: string; size: number }> {
  const path = join(dir, 'disk.raw');
  const f = await open(path, 'w');
  await f.write(randomBytes(7 * MIB), 0, 7 * MIB, 8 * MIB);
  await f.write(Buffer.from('tail'), 0, 4, 24 * MIB - 4);
  await f.close();
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  return { path, sha256, size: 24 * MIB };
}

const options = (dir: string) => ({
  signal: new AbortController().signal,
  tmpDir: dir,
  exec,
  partSize: 5 * MIB,
  retry: { baseDelayMs: 1, maxDelayMs: 2 },
});

describe('blob transfer', () => {
  test('a sparse file goes up in parallel parts without its holes and comes back identical and sparse', async () => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const blobs = new MemoryBlobs();
    const key = blobKey('cache/', file.sha256);
    const up = await putBlob(blobs, file.path, key, file, options(dir));
    expect(up.ok).toBe(true);
    if (!up.ok) return;
    // 7 MiB of random data and 17 MiB of holes: about 7 MiB sent, in two parts.
    expect(up.value.bytesSent).toBeLessThan(7.2 * MIB);
    expect(blobs.calls.filter((c) => c === 'UploadPart')).toHaveLength(2);
    const again = await putBlob(blobs, file.path, key, file, options(dir));
    expect(again.ok && again.value.bytesSent).toBe(0);

    const dest = join(tempDir(), 'disk.raw');
    const down = await getBlob(blobs, key, dest, file, {
      ...options(dir),
      tmpDir: join(dest, '..'),
    });
    expect(down).toEqual(ok({ bytesReceived: up.value.bytesSent }));
    expect(readFileSync(dest).equals(readFileSync(file.path))).toBe(true);
    expect(statSync(dest).blocks * 512).toBeLessThan(9 * MIB);
  });

  test('a part that fails once is sent again; one that keeps failing aborts the upload and leaves no object', async () => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const key = blobKey('', file.sha256);
    const flaky = new MemoryBlobs();
    flaky.faults.set('UploadPart', 1);
    expect((await putBlob(flaky, file.path, key, file, options(dir))).ok).toBe(true);
    expect(flaky.objects.has(key)).toBe(true);

    const broken = new MemoryBlobs();
    broken.faults.set('UploadPart', 100);
    const r = await putBlob(broken, file.path, key, file, options(dir));
    expect(r).toMatchObject({
      ok: false,
      error: { reason: 'cloud', failure: { operation: 'UploadPart' } },
    });
    expect(broken.calls).toContain('AbortMultipartUpload');
    expect(broken.objects.size).toBe(0);
    expect(broken.uploads.size).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith('.emi-blob'))).toEqual([]);
  });

  test('a file that changed since its digest was recorded is not uploaded under the old key', async () => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const blobs = new MemoryBlobs();
    const r = await putBlob(blobs, file.path, 'k', { sha256: '0'.repeat(64) }, options(dir));
    expect(r).toMatchObject({ ok: false, error: { reason: 'corrupt' } });
    expect(blobs.objects.size).toBe(0);
  });

  test("with the caller's digest, a blob already there is not compressed again, but a changed file is still refused", async () => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const blobs = new MemoryBlobs();
    const key = blobKey('', file.sha256);
    expect((await putBlob(blobs, file.path, key, file, options(dir))).ok).toBe(true);
    const sha256Of = (path: string): Promise<string> =>
      Promise.resolve(createHash('sha256').update(readFileSync(path)).digest('hex'));
    // A temporary directory that does not exist: compressing would fail on it.
    const noTmp = { ...options(dir), tmpDir: join(dir, 'absent'), digest: sha256Of };
    const again = await putBlob(blobs, file.path, key, file, noTmp);
    expect(again).toEqual(ok({ sha256: file.sha256, size: file.size, bytesSent: 0 }));
    const other = await putBlob(blobs, file.path, key, { sha256: '1'.repeat(64) }, noTmp);
    expect(other).toMatchObject({ ok: false, error: { reason: 'corrupt', where: file.path } });
    // Without it (nothing to check the file by but the compression), the file is compressed.
    const unchecked = await putBlob(blobs, file.path, key, file, {
      ...options(dir),
      tmpDir: join(dir, 'absent'),
    });
    expect(unchecked).toMatchObject({ ok: false, error: { reason: 'local' } });
  });

  test.each([
    [
      // In the random data's stored blocks (a flipped padding bit of a sync flush would
      // inflate to the same bytes, which is no corruption).
      'a flipped byte',
      (b: Buffer) => {
        const at = Math.floor(b.length / 2);
        return Buffer.concat([
          b.subarray(0, at),
          Buffer.from([(b[at] ?? 0) ^ 1]),
          b.subarray(at + 1),
        ]);
      },
    ],
    ['a truncated blob', (b: Buffer) => b.subarray(0, b.length - 100)],
    ['not gzip at all', () => Buffer.from('<Error>hello</Error>')],
  ])('%s is refused and leaves no file behind', async (_name, damage) => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const blobs = new MemoryBlobs();
    const key = blobKey('', file.sha256);
    expect((await putBlob(blobs, file.path, key, file, options(dir))).ok).toBe(true);
    blobs.objects.set(key, damage(blobs.objects.get(key) ?? Buffer.alloc(0)));
    const out = tempDir();
    const r = await getBlob(blobs, key, join(out, 'disk.raw'), file, {
      ...options(dir),
      tmpDir: out,
    });
    expect(r).toMatchObject({ ok: false, error: { reason: 'corrupt', key } });
    expect(readdirSync(out)).toEqual([]);
  });

  test('a blob whose content is not the recorded one is refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'hello\n');
    const blobs = new MemoryBlobs();
    const sha = createHash('sha256').update('hello\n').digest('hex');
    expect((await putBlob(blobs, join(dir, 'a'), 'k', { sha256: sha }, options(dir))).ok).toBe(
      true,
    );
    const out = tempDir();
    const r = await getBlob(
      blobs,
      'k',
      join(out, 'a'),
      { sha256: 'f'.repeat(64), size: 6 },
      { ...options(dir), tmpDir: out },
    );
    expect(r).toMatchObject({ ok: false, error: { reason: 'corrupt' } });
    expect(readdirSync(out)).toEqual([]);
  });

  test('a download cut off mid-body starts again and completes', async () => {
    const dir = tempDir();
    const file = await sparseFile(dir);
    const blobs = new MemoryBlobs();
    const key = blobKey('', file.sha256);
    expect((await putBlob(blobs, file.path, key, file, options(dir))).ok).toBe(true);
    blobs.dropGetsAfter = [3 * MIB, 100];
    const out = tempDir();
    const r = await getBlob(blobs, key, join(out, 'disk.raw'), file, {
      ...options(dir),
      tmpDir: out,
    });
    expect(r.ok).toBe(true);
    expect(blobs.calls.filter((c) => c === 'GetObject')).toHaveLength(3);
    expect(readdirSync(out)).toEqual(['disk.raw']);
  });
});

describe('blob transfer against the embedded cloud (real HTTP, the AWS SDK)', () => {
  test('multipart up, streamed down, identical and sparse; a second upload sends nothing', async () => {
    const t = await startTestCloud();
    try {
      await t.clients.s3.send(new CreateBucketCommand({ Bucket: 'cache' }));
      const blobs = sdkBlobObjects(t.clients.s3, t.cloud.endpoints.s3, 'cache');
      const dir = tempDir();
      const file = await sparseFile(dir);
      const key = blobKey('ci/', file.sha256);
      const up = await putBlob(blobs, file.path, key, file, options(dir));
      expect(up.ok).toBe(true);
      if (!up.ok) return;
      expect(up.value.bytesSent).toBeGreaterThan(5 * MIB); // more than one part
      expect(up.value.bytesSent).toBeLessThan(7.2 * MIB);
      const uploads = await t.clients.s3.send(new ListMultipartUploadsCommand({ Bucket: 'cache' }));
      expect(uploads.Uploads ?? []).toEqual([]);
      const again = await putBlob(blobs, file.path, key, file, options(dir));
      expect(again.ok && again.value.bytesSent).toBe(0);

      const out = tempDir();
      const dest = join(out, 'disk.raw');
      const down = await getBlob(blobs, key, dest, file, { ...options(dir), tmpDir: out });
      expect(down).toEqual(ok({ bytesReceived: up.value.bytesSent }));
      expect(readFileSync(dest).equals(readFileSync(file.path))).toBe(true);
      expect(statSync(dest).blocks * 512).toBeLessThan(9 * MIB);
      expect(
        await getBlob(blobs, blobKey('ci/', 'f'.repeat(64)), join(out, 'x'), file, {
          ...options(dir),
          tmpDir: out,
        }),
      ).toMatchObject({
        ok: false,
        error: { reason: 'cloud', failure: { reason: 'not-found' } },
      });
    } finally {
      await t.stop();
    }
  });
});
