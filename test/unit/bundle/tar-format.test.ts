// The tar header bytes against the one euca2ools wrote (decrypted from the golden kernel
// bundle), stream lengths from the spec, GNU base-256 sizes and LongLink names.
import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from '@jest/globals';
import {
  padding,
  readTarHeader,
  tarHeaderBlocks,
  tarStreamLength,
} from '../../../src/bundle/tar-format.js';
import { GOLDEN_CASES, goldenBundlePath } from '../../helpers/golden.js';

/** The decrypted, decompressed tar stream of a golden bundle. */
function goldenTar(c: (typeof GOLDEN_CASES)[number]): Buffer {
  const parts = Array.from({ length: c.parts }, (_, i) =>
    readFileSync(goldenBundlePath(c, `${c.image}.part.${String(i).padStart(2, '0')}`)),
  );
  const decipher = createDecipheriv(
    'aes-128-cbc',
    Buffer.from(c.key, 'hex'),
    Buffer.from(c.iv, 'hex'),
  );
  return gunzipSync(Buffer.concat([decipher.update(Buffer.concat(parts)), decipher.final()]));
}

describe('tar header', () => {
  test.each(GOLDEN_CASES.filter((c) => c.name !== 'multipart'))(
    'is byte for byte the header euca2ools wrote ($name)',
    (c) => {
      const tar = goldenTar(c);
      expect(tarHeaderBlocks(c.image, c.size).equals(tar.subarray(0, 512))).toBe(true);
      expect(tar.length).toBe(tarStreamLength(512, c.size));
    },
  );

  test('fields as the spec lists them', () => {
    const h = tarHeaderBlocks('vmlinuz-golden', 3145851);
    const field = (offset: number, length: number): string =>
      h.toString('latin1', offset, offset + length);
    expect(field(100, 8)).toBe('0000644\0');
    expect(field(108, 8)).toBe('0000000\0');
    expect(field(124, 12)).toBe('00014000173\0');
    expect(field(136, 12)).toBe('00000000000\0');
    expect(field(148, 8)).toMatch(/^[0-7]{6}\0 $/);
    expect(field(156, 1)).toBe('0');
    expect(field(257, 8)).toBe('ustar  \0');
    expect(field(329, 16)).toBe('0000000\u00000000000\0');
    expect(h.subarray(345).every((b) => b === 0)).toBe(true);
  });

  test('sizes of 8 GiB and more use GNU base-256 and read back', () => {
    const size = 10 * 2 ** 30 + 4096;
    const h = tarHeaderBlocks('big.img', size);
    expect(h[124]).toBe(0x80);
    expect(h.readUIntBE(130, 6)).toBe(size);
    expect(h.subarray(125, 130).every((b) => b === 0)).toBe(true);
    expect(readTarHeader(h)).toEqual({ ok: true, value: { type: '0', name: 'big.img', size } });
    const justBelow = tarHeaderBlocks('x', 8 ** 11 - 1);
    expect(justBelow.toString('latin1', 124, 136)).toBe('77777777777\0');
    expect(tarHeaderBlocks('x', 8 ** 11)[124]).toBe(0x80);
  });

  test('names over 100 bytes get a ././@LongLink header first', () => {
    const name = 'n'.repeat(120);
    const h = tarHeaderBlocks(name, 1000);
    expect(h.length).toBe(3 * 512);
    expect(readTarHeader(h.subarray(0, 512))).toEqual({
      ok: true,
      value: { type: 'L', name: '././@LongLink', size: 121 },
    });
    expect(h.toString('latin1', 0 + 100, 108)).toBe('0000000\0');
    expect(h.toString('latin1', 512, 512 + 121)).toBe(`${name}\0`);
    expect(h.subarray(512 + 121, 1024).every((b) => b === 0)).toBe(true);
    expect(readTarHeader(h.subarray(1024))).toEqual({
      ok: true,
      value: { type: '0', name: name.slice(0, 100), size: 1000 },
    });
    expect(tarHeaderBlocks('n'.repeat(100), 1).length).toBe(512);
  });

  test('stream lengths from the spec', () => {
    expect(tarStreamLength(512, 3145851)).toBe(3153920);
    expect(tarStreamLength(512, 1000)).toBe(10240);
    expect(tarStreamLength(512, 0)).toBe(10240);
    expect(tarStreamLength(512, 10240 - 1536)).toBe(10240);
    expect(tarStreamLength(512, 10240 - 1536 + 1)).toBe(20480);
    expect(padding(0)).toBe(0);
    expect(padding(1)).toBe(511);
  });

  test('a damaged header is refused', () => {
    const h = tarHeaderBlocks('x', 5);
    h[0] = 'y'.charCodeAt(0);
    expect(readTarHeader(h)).toEqual({ ok: false, error: 'checksum' });
  });
});
