// The pigz-style gzip member: valid for zlib's gunzip, CRC and ISIZE right, zero chunks
// compressed once and reused.
import { randomBytes } from 'node:crypto';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, test } from '@jest/globals';
import {
  GZIP_HEADER,
  isAllZero,
  JobSlots,
  looksIncompressible,
  ParallelGzip,
  storedBlocks,
} from '../../../src/bundle/parallel-gzip.js';

type Spec = Buffer | number; // bytes, or that many zeros

async function member(
  chunks: readonly Spec[],
  concurrency = 2,
  storeIncompressible = true,
): Promise<{ gz: Buffer; plain: Buffer; forms: Buffer[]; raw: (readonly Buffer[])[] }> {
  const gzip = new ParallelGzip({ concurrency, storeIncompressible });
  const jobs = chunks.map((c, i) =>
    typeof c === 'number'
      ? gzip.compress(undefined, c, i === chunks.length - 1)
      : gzip.compress(c, c.length, i === chunks.length - 1),
  );
  const raw = await Promise.all(jobs);
  const forms = raw.map((pieces) => Buffer.concat(pieces));
  const plain = Buffer.concat(chunks.map((c) => (typeof c === 'number' ? Buffer.alloc(c) : c)));
  return { gz: Buffer.concat([GZIP_HEADER, ...forms, gzip.trailer()]), plain, forms, raw };
}

const KIB = 1024;

describe('ParallelGzip', () => {
  test('a single chunk is a complete gzip member', async () => {
    const { gz, plain } = await member([Buffer.from('hello, world\n')]);
    expect(gunzipSync(gz).equals(plain)).toBe(true);
    expect(gz.subarray(0, 10).toString('hex')).toBe('1f8b0800000000000003');
  });

  test('data and zero chunks join into one valid member', async () => {
    const text = Buffer.from('the quick brown fox '.repeat(10000));
    const chunks: Spec[] = [
      randomBytes(64 * KIB),
      64 * KIB,
      64 * KIB,
      text.subarray(0, 64 * KIB),
      64 * KIB,
      randomBytes(10),
    ];
    const { gz, plain } = await member(chunks);
    expect(gunzipSync(gz).equals(plain)).toBe(true);
    expect(gz.readUInt32LE(gz.length - 4)).toBe(plain.length);
  });

  test('a zero chunk after 32 KiB of zeros is compressed once and its bytes reused', async () => {
    const { gz, plain, forms, raw } = await member([
      randomBytes(64 * KIB),
      128 * KIB,
      128 * KIB,
      128 * KIB,
      4 * KIB,
    ]);
    expect(gunzipSync(gz).equals(plain)).toBe(true);
    expect(raw[2]).toBe(raw[3]); // the very same buffers: computed once
    expect(raw[1]).not.toBe(raw[2]); // its dictionary was random data
    expect(forms[2]!.length).toBeLessThan(200);
  });

  test('a data chunk whose tail is zero primes the next zero chunk like a zero chunk', async () => {
    const data = Buffer.concat([randomBytes(8 * KIB), Buffer.alloc(56 * KIB)]);
    const { gz, plain, raw } = await member([data, 64 * KIB, 64 * KIB, 1]);
    expect(gunzipSync(gz).equals(plain)).toBe(true);
    expect(raw[1]).toBe(raw[2]);
  });

  test('the last chunk may be all zero', async () => {
    const { gz, plain } = await member([randomBytes(40 * KIB), 40 * KIB]);
    expect(gunzipSync(gz).equals(plain)).toBe(true);
  });

  test('many chunks with concurrency 1 and 4 give the same bytes', async () => {
    const chunks: Spec[] = Array.from({ length: 12 }, (_, i) =>
      i % 4 === 1 ? 40 * KIB : randomBytes(40 * KIB),
    );
    const one = await member(chunks, 1);
    const four = await member(chunks, 4);
    expect(one.gz.equals(four.gz)).toBe(true);
    expect(gunzipSync(four.gz).equals(four.plain)).toBe(true);
  });
});

describe('incompressible chunks', () => {
  test('random chunks are stored, not deflated, and the member stays valid', async () => {
    const text = Buffer.from('some words that repeat, some words that repeat; '.repeat(3000));
    const chunks: Spec[] = [randomBytes(256 * KIB), text, randomBytes(256 * KIB), 64 * KIB];
    const stored = await member(chunks);
    const deflated = await member(chunks, 2, false);
    expect(gunzipSync(stored.gz).equals(stored.plain)).toBe(true);
    expect(gunzipSync(deflated.gz).equals(deflated.plain)).toBe(true);
    // Stored blocks: 5 bytes per 64 KiB, never more than deflate's output for random data.
    expect(stored.forms[0]!.length).toBeLessThanOrEqual(deflated.forms[0]!.length);
    expect(stored.forms[0]!.length).toBeLessThan(256 * KIB + 100);
    expect(stored.forms[1]!.equals(deflated.forms[1]!)).toBe(true); // text is deflated
  });

  test('stored blocks: 64 KiB at most, BFINAL only on the very last, byte-exact for zlib', () => {
    const data = randomBytes(150_000);
    const blocks = storedBlocks(data, true);
    expect(blocks.map((b) => b.length)).toEqual([5, 65535, 5, 65535, 5, 150_000 - 2 * 65535]);
    expect([blocks[0]![0], blocks[2]![0], blocks[4]![0]]).toEqual([0, 0, 1]);
    expect(inflateRawSync(Buffer.concat(blocks)).equals(data)).toBe(true);
    expect(storedBlocks(Buffer.alloc(0), true).map((b) => b.toString('hex'))).toEqual([
      '010000ffff',
      '',
    ]);
  });

  test('the entropy probe tells random from text, code and zeros', () => {
    expect(looksIncompressible(randomBytes(1024 * KIB))).toBe(true);
    expect(
      looksIncompressible(Buffer.from('function f(x) { return x + 1; }\n'.repeat(40000))),
    ).toBe(false);
    expect(looksIncompressible(Buffer.alloc(1024 * KIB))).toBe(false);
    const half = Buffer.concat([randomBytes(512 * KIB), Buffer.from('abc '.repeat(128 * KIB))]);
    expect(looksIncompressible(half)).toBe(false);
    expect(looksIncompressible(randomBytes(1000))).toBe(false); // too small to judge
  });
});

describe('isAllZero', () => {
  test('finds a single non-zero byte anywhere', () => {
    const b = Buffer.alloc(200 * KIB);
    expect(isAllZero(b)).toBe(true);
    b[150 * KIB + 3] = 1;
    expect(isAllZero(b)).toBe(false);
    expect(isAllZero(b.subarray(0, 150 * KIB))).toBe(true);
    expect(isAllZero(Buffer.alloc(0))).toBe(true);
  });
});

describe('JobSlots: compression on the cores that are free right now', () => {
  function gate(): { promise: Promise<void>; open: () => void } {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  }
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  test('never runs more jobs than the limit says, and follows it as it changes', async () => {
    let limit = 1;
    const slots = new JobSlots(4, () => limit);
    let running = 0;
    let most = 0;
    const gates = Array.from({ length: 6 }, gate);
    const done = gates.map((g) =>
      slots.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await g.promise;
        running -= 1;
      }),
    );
    await tick();
    expect(slots.active).toBe(1); // a boot test holds the other core
    expect(most).toBe(1);
    limit = 3; // the VM is gone: the next finished job lets the others start
    gates[0]?.open();
    await tick();
    expect(slots.active).toBe(3);
    limit = 10; // never more than max
    gates[1]?.open();
    gates[2]?.open();
    await tick();
    expect(slots.active).toBe(3);
    for (const g of gates) g.open();
    await Promise.all(done);
    expect(most).toBeLessThanOrEqual(4);
    expect(slots.active).toBe(0);
  });

  test('a limit below 1 still lets one job run', async () => {
    const slots = new JobSlots(2, () => 0);
    await expect(slots.run(() => Promise.resolve('ran'))).resolves.toBe('ran');
  });

  test('a member made under a limit of one job is the same valid gzip', async () => {
    const data = Buffer.concat([
      randomBytes(40 * KIB),
      Buffer.alloc(64 * KIB, 7),
      randomBytes(50 * KIB),
    ]);
    const chunks = [
      data.subarray(0, 64 * KIB),
      data.subarray(64 * KIB, 128 * KIB),
      data.subarray(128 * KIB),
    ];
    const gzip = new ParallelGzip({ concurrency: 4, limit: () => 1 });
    const forms = await Promise.all(chunks.map((c, i) => gzip.compress(c, c.length, i === 2)));
    const gz = Buffer.concat([GZIP_HEADER, ...forms.flat(), gzip.trailer()]);
    expect(gunzipSync(gz).equals(data)).toBe(true);
  });
});
