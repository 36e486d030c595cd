// The splitter: part sizes and names, SHA-1s, the empty trailing part when the ciphertext is
// an exact multiple of the part size (spec §2.7), temp names until commit, abort cleanup.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { partFileName, PartWriter } from '../../../src/bundle/part-writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'part-writer-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const EMPTY_SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';

async function split(data: Buffer, partSize: number, pieces = 7): Promise<PartWriter> {
  const writer = new PartWriter({ dir, prefix: 'img', partSize, durable: false });
  const step = Math.ceil(data.length / pieces) || 1;
  for (let at = 0; at < data.length; at += step) await writer.write(data.subarray(at, at + step));
  return writer;
}

describe('part names', () => {
  test('at least two digits', () => {
    expect(partFileName('x', 0)).toBe('x.part.00');
    expect(partFileName('x', 9)).toBe('x.part.09');
    expect(partFileName('x', 99)).toBe('x.part.99');
    expect(partFileName('x', 100)).toBe('x.part.100');
  });
});

describe('PartWriter', () => {
  test('cuts at the part size; the last part is shorter', async () => {
    const data = randomBytes(1000);
    const writer = await split(data, 300);
    const parts = await writer.finish();
    expect(parts.map((p) => [p.filename, p.size])).toEqual([
      ['img.part.00', 300],
      ['img.part.01', 300],
      ['img.part.02', 300],
      ['img.part.03', 100],
    ]);
    expect(parts[1]!.sha1).toBe(sha1(data.subarray(300, 600)));
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([]);
    await writer.commit();
    expect(readdirSync(dir).sort()).toEqual(parts.map((p) => p.filename));
    expect(Buffer.concat(parts.map((p) => readFileSync(join(dir, p.filename)))).equals(data)).toBe(
      true,
    );
  });

  test('an exact multiple gets an empty trailing part, as euca2ools writes it', async () => {
    const writer = await split(randomBytes(1200), 400, 5);
    const parts = await writer.finish();
    expect(parts.map((p) => p.size)).toEqual([400, 400, 400, 0]);
    expect(parts[3]).toEqual({ filename: 'img.part.03', size: 0, sha1: EMPTY_SHA1 });
  });

  test('exactly one part long: the full part and an empty one', async () => {
    const writer = await split(randomBytes(512), 512, 1);
    expect((await writer.finish()).map((p) => p.size)).toEqual([512, 0]);
  });

  test('shorter than a part: one part', async () => {
    const writer = await split(randomBytes(16), 512, 1);
    expect((await writer.finish()).map((p) => p.size)).toEqual([16]);
  });

  test('more than 100 parts: three-digit names', async () => {
    const writer = await split(randomBytes(101 * 16 + 5), 16, 13);
    const parts = await writer.finish();
    expect(parts).toHaveLength(102);
    expect(parts[100]!.filename).toBe('img.part.100');
    expect(parts[101]!.size).toBe(5);
  });

  test('abort removes every part written so far', async () => {
    const writer = await split(randomBytes(1000), 300);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    await writer.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
