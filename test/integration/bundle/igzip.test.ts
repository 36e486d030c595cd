// bundle/igzip.ts with the real igzip: the caller's own read and write errors come back as
// they were thrown (a file system error, to be reported as one), never as igzip's failure;
// igzip's own refusal is its failure; what it writes is gzip that zlib reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from '@jest/globals';
import { deflateWithIgzip, igzipPath, inflateWithIgzip } from '../../../src/bundle/igzip.js';
import { exec } from '../../../src/tools/exec.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-igzip-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const eio = () => Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
const data = Buffer.from('a disk image, more or less\n'.repeat(50_000));

async function igzip(): Promise<string> {
  const path = await igzipPath();
  if (path === undefined) throw new Error('igzip is not installed: run scripts/install-host-tools');
  return path;
}

async function* chunks(failAfter?: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 8; i += 1) {
    await Promise.resolve();
    if (failAfter !== undefined && i === failAfter) throw eio();
    yield data;
  }
}

describe('deflateWithIgzip', () => {
  test('writes gzip that zlib reads back', async () => {
    const out = join(dir, 'whole.gz');
    const r = await deflateWithIgzip(await igzip(), chunks(), out, {
      exec,
      signal: new AbortController().signal,
      level: 1,
    });
    expect(r.ok).toBe(true);
    expect(gunzipSync(readFileSync(out)).equals(Buffer.concat(Array(8).fill(data)))).toBe(true);
  });

  test('a read that fails mid-way throws its own error, not an igzip failure', async () => {
    await expect(
      deflateWithIgzip(await igzip(), chunks(3), join(dir, 'failed-read.gz'), {
        exec,
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('inflateWithIgzip', () => {
  const gz = gzipSync(Buffer.concat(Array(8).fill(data)));

  test('gives the content to the sink in order, and counts the compressed bytes', async () => {
    const got: Buffer[] = [];
    const read = await inflateWithIgzip(
      await igzip(),
      exec,
      Readable.from([gz]),
      new AbortController().signal,
      (chunk) => {
        got.push(Buffer.from(chunk));
        return Promise.resolve();
      },
    );
    expect(read).toBe(gz.length);
    expect(Buffer.concat(got).equals(Buffer.concat(Array(8).fill(data)))).toBe(true);
  });

  test("a write that fails throws the sink's error", async () => {
    await expect(
      inflateWithIgzip(await igzip(), exec, Readable.from([gz]), new AbortController().signal, () =>
        Promise.reject(Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' })),
      ),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  test('a forged stream is a Z_DATA_ERROR', async () => {
    const forged = Buffer.from(gz);
    forged.fill(0x55, 40, 400);
    await expect(
      inflateWithIgzip(
        await igzip(),
        exec,
        Readable.from([forged]),
        new AbortController().signal,
        async () => {},
      ),
    ).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
  });
});
