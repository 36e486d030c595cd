// encodeSparseGzip and decodeSparseGzip, the step cache's compressor, both ways: through ISA-L's igzip (installed
// by scripts/install-host-tools) and through zlib on the thread pool. Either gives one gzip
// stream of the whole content, holes included, that gunzip reads back byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from '@jest/globals';
import { decodeSparseGzip, encodeSparseGzip, isBadGzip } from '../../../src/bundle/sparse-gzip.js';
import { exec } from '../../../src/tools/exec.js';
import { findOnPath } from '../../../src/tools/tool-version.js';

const MIB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'emi-sparse-gzip-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** 40 MiB: text (compressible) at 2 MiB, random data at 20 MiB, holes elsewhere. */
async function sparseFile(): Promise<string> {
  const path = join(dir, 'disk.raw');
  const f = await open(path, 'w');
  const text = Buffer.from('emi-recipe builds machine images from recipes\n'.repeat(100_000));
  await f.write(text, 0, text.length, 2 * MIB);
  await f.write(randomBytes(5 * MIB), 0, 5 * MIB, 20 * MIB);
  await f.truncate(40 * MIB);
  await f.close();
  return path;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('encodeSparseGzip', () => {
  test('igzip is installed (scripts/install-host-tools), so the fast way is the one tested', async () => {
    expect(await findOnPath('igzip')).toBeDefined();
  });

  test.each([
    ['igzip', true],
    ['zlib', false],
  ])('through %s: gunzip gives the content back, with its SHA-256', async (name, igzip) => {
    const file = await sparseFile();
    const out = join(dir, `${name}.gz`);
    const r = await encodeSparseGzip(file, out, {
      exec,
      signal: new AbortController().signal,
      level: 1,
      igzip,
    });
    const content = readFileSync(file);
    expect(r).toEqual({ ok: true, value: { size: 40 * MIB, sha256: sha256(content) } });
    const gz = readFileSync(out);
    expect(gunzipSync(gz).equals(content)).toBe(true);
    // The text compresses; the random data and the holes' zeros cost little more than the data.
    expect(gz.length).toBeLessThan(6 * MIB);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  test('hash: false leaves the digest to the caller; an output that exists is never overwritten', async () => {
    const file = await sparseFile();
    const out = join(dir, 'nohash.gz');
    const r = await encodeSparseGzip(file, out, {
      exec,
      signal: new AbortController().signal,
      level: 1,
      igzip: true,
      hash: false,
    });
    expect(r).toEqual({ ok: true, value: { size: 40 * MIB } });
    await expect(
      encodeSparseGzip(file, out, { exec, signal: new AbortController().signal, igzip: true }),
    ).rejects.toMatchObject({ code: 'EEXIST' });
  });

  test('canceled: no size claimed, whichever way', async () => {
    const file = await sparseFile();
    const stop = new AbortController();
    stop.abort();
    for (const igzip of [true, false]) {
      const r = await encodeSparseGzip(file, join(dir, `canceled-${String(igzip)}.gz`), {
        exec,
        signal: stop.signal,
        igzip,
      });
      // Canceled while the extents are listed, or while compressing: never a size.
      expect([undefined, 'canceled']).toContain(r.ok ? r.value : r.error.reason);
    }
  });
});

describe('decodeSparseGzip', () => {
  test.each([
    ['igzip', true],
    ['zlib', false],
  ])(
    'through %s: the content back, sparse, with its SHA-256 and the bytes read',
    async (name, igzip) => {
      const file = await sparseFile();
      const content = readFileSync(file);
      const gz = gzipSync(content, { level: 1 });
      const dest = join(dir, `decoded-${name}.raw`);
      const r = await decodeSparseGzip(Readable.from([gz]), dest, new AbortController().signal, {
        exec,
        igzip,
      });
      expect(r).toEqual({ size: 40 * MIB, sha256: sha256(content), compressedBytes: gz.length });
      expect(readFileSync(dest).equals(content)).toBe(true);
      // Text and random data, about 9.6 MiB, are written; the zeros stay holes.
      expect(statSync(dest).blocks * 512).toBeLessThan(12 * MIB);
    },
  );

  test.each([
    ['igzip', true],
    ['zlib', false],
  ])(
    'through %s: a truncated or forged gzip is a bad gzip (the caller removes the file)',
    async (name, igzip) => {
      const gz = gzipSync(readFileSync(await sparseFile()), { level: 1 });
      for (const [what, body] of [
        ['truncated', gz.subarray(0, gz.length >> 1)],
        ['forged', Buffer.concat([gz.subarray(0, 100), randomBytes(4096)])],
      ] as const) {
        const dest = join(dir, `bad-${name}-${what}.raw`);
        const thrown = await decodeSparseGzip(
          Readable.from([body]),
          dest,
          new AbortController().signal,
          { exec, igzip, hash: false },
        ).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(isBadGzip(thrown)).toBe(true);
      }
    },
  );

  test('through igzip: a body that breaks mid-way throws its own error (a retry can follow)', async () => {
    const gz = gzipSync(readFileSync(await sparseFile()), { level: 1 });
    const broken = new Readable({ read() {} });
    broken.push(gz.subarray(0, 1000));
    setImmediate(() =>
      broken.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
    );
    const dest = join(dir, 'broken.raw');
    await expect(
      decodeSparseGzip(broken, dest, new AbortController().signal, { exec, igzip: true }),
    ).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
