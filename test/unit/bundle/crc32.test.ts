// crc32Combine against CRCs of real concatenations, and its algebra for lengths over 4 GiB.
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { crc32, crc32Combine } from '../../../src/bundle/crc32.js';

describe('crc32', () => {
  test('known values', () => {
    expect(crc32(Buffer.from(''))).toBe(0);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('6789'), crc32(Buffer.from('12345')))).toBe(0xcbf43926);
  });
});

describe('crc32Combine', () => {
  test.each([0, 1, 7, 512, 32768, 1048576 + 3])(
    'equals the CRC of A‖B with |B| = %i',
    (lengthB) => {
      const a = randomBytes(1000);
      const b = randomBytes(lengthB);
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])));
    },
  );

  test('joins many chunks in order, as the parallel gzip does', () => {
    const chunks = Array.from({ length: 20 }, (_, i) =>
      i % 3 === 0 ? Buffer.alloc(4096 + i) : randomBytes(1000 + i * 37),
    );
    let crc = 0;
    for (const chunk of chunks) crc = crc32Combine(crc, crc32(chunk), chunk.length);
    expect(crc).toBe(crc32(Buffer.concat(chunks)));
  });

  test('is associative for lengths beyond 2^32 (no 32-bit overflow)', () => {
    const [x, y, z] = [0x12345678, 0x9abcdef0, 0x0badf00d];
    const ly = 5 * 2 ** 32 + 12345;
    const lz = 3 * 2 ** 31 + 7;
    const left = crc32Combine(crc32Combine(x, y, ly), z, lz);
    const right = crc32Combine(x, crc32Combine(y, z, lz), ly + lz);
    expect(left).toBe(right);
  });

  test('CRC of 2^33 zero bytes built by doubling agrees with building it in uneven steps', () => {
    const mib = crc32(Buffer.alloc(1 << 20));
    let doubled = mib;
    let length = 1 << 20;
    while (length < 2 ** 33) {
      doubled = crc32Combine(doubled, doubled, length);
      length *= 2;
    }
    const third = crc32(Buffer.alloc(3 << 20));
    let stepped = 0;
    let done = 0;
    while (done + (3 << 20) <= 2 ** 33) {
      stepped = crc32Combine(stepped, third, 3 << 20);
      done += 3 << 20;
    }
    const rest = 2 ** 33 - done;
    expect(rest % (1 << 20)).toBe(0);
    for (let i = 0; i < rest / (1 << 20); i += 1) stepped = crc32Combine(stepped, mib, 1 << 20);
    expect(stepped).toBe(doubled);
  });
});
