import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { hashFile, type ExtentLister } from '../../../src/run/file-identity.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'emi-file-identity-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A sparse file of `size` bytes with `bytes` written at each offset. */
function sparseFile(name: string, size: number, writes: readonly [number, string][]): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  for (const [offset, bytes] of writes) writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
  closeSync(fd);
  truncateSync(path, size);
  return path;
}

/** The digest's definition, computed independently: 1 MiB chunks, framed, zero chunks by frame only. */
function expectedDigest(size: number, writes: readonly [number, string][]): string {
  const content = Buffer.alloc(size);
  for (const [offset, bytes] of writes) Buffer.from(bytes).copy(content, offset);
  const hash = createHash('sha256');
  for (let offset = 0; offset < size; offset += MiB) {
    const chunk = content.subarray(offset, Math.min(size, offset + MiB));
    const zero = chunk.equals(Buffer.alloc(chunk.length));
    const frame = Buffer.alloc(9);
    frame[0] = zero ? 0 : 1;
    frame.writeBigUInt64BE(BigInt(chunk.length), 1);
    hash.update(frame);
    if (!zero) hash.update(chunk);
  }
  return hash.digest('hex');
}

const readEverything: ExtentLister = () => Promise.resolve(undefined);

describe('hashFile', () => {
  // Data at a chunk's first and last byte, straddling a chunk edge, and in the short tail.
  const size = 40 * MiB + 12345;
  const writes: [number, string][] = [
    [0, 'boot'],
    [5 * MiB - 2, 'edge'],
    [17 * MiB + 999, 'middle'],
    [18 * MiB - 1, 'x'],
    [40 * MiB + 12000, 'tail'],
  ];

  test("a large sparse file's digest skips its holes and equals the whole-file reading", async () => {
    const path = sparseFile('sparse.img', size, writes);
    const expected = expectedDigest(size, writes);
    expect(await hashFile(path)).toBe(expected); // the real SEEK_DATA lister
    expect(await hashFile(path, undefined, readEverything)).toBe(expected);
  });

  test('the listed extents are used: a chunk outside them is not read', async () => {
    const path = sparseFile('listed.img', size, writes);
    // A lister that claims the file is one hole: every chunk is taken as zeros unread.
    const allHole: ExtentLister = () => Promise.resolve({ extents: [], size });
    expect(await hashFile(path, undefined, allHole)).toBe(expectedDigest(size, []));
    // An extent over just the middle write: only its chunk is read (whole: 'x' is in it too).
    const middleOnly: ExtentLister = () =>
      Promise.resolve({ extents: [{ start: 17 * MiB + 999, end: 17 * MiB + 1005 }], size });
    expect(await hashFile(path, undefined, middleOnly)).toBe(
      expectedDigest(size, [
        [17 * MiB + 999, 'middle'],
        [18 * MiB - 1, 'x'],
      ]),
    );
  });

  test('extents listed for another size are ignored (the file changed): everything is read', async () => {
    const path = sparseFile('changed.img', size, writes);
    const stale: ExtentLister = () => Promise.resolve({ extents: [], size: size - 1 });
    expect(await hashFile(path, undefined, stale)).toBe(expectedDigest(size, writes));
  });

  test('one changed byte anywhere, a hole included, changes the digest', async () => {
    const before = await hashFile(sparseFile('a.img', size, writes));
    const after = await hashFile(sparseFile('b.img', size, [...writes, [30 * MiB + 7, '\u0001']]));
    expect(after).not.toBe(before);
  });

  test('a small file is read whole without asking for extents', async () => {
    const path = sparseFile('small', 3 * MiB + 5, [[MiB + 1, 'abc']]);
    const never: ExtentLister = () => Promise.reject(new Error('asked for extents'));
    expect(await hashFile(path, undefined, never)).toBe(
      expectedDigest(3 * MiB + 5, [[MiB + 1, 'abc']]),
    );
  });

  test('an aborted hash stops with the abort', async () => {
    const path = sparseFile('abort.img', size, writes);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(hashFile(path, controller.signal, readEverything)).rejects.toThrow('stopped');
  });
});
