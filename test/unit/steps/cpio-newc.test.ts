import { describe, expect, test } from '@jest/globals';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cpioNewc, initrdPadding } from '../../../src/steps/cpio-newc.js';

describe('cpio newc', () => {
  test('one file then the trailer, 4-byte aligned, fields in upper-case hex', () => {
    const archive = cpioNewc([
      { name: 'preseed.cfg', mode: 0o100644, data: new TextEncoder().encode('d-i x\n') },
    ]);
    const text = new TextDecoder().decode(archive);
    expect(text.startsWith('07070100000001000081A4')).toBe(true);
    // namesize 12 ("preseed.cfg\0"), filesize 6.
    expect(text.slice(6 + 6 * 8, 6 + 7 * 8)).toBe('00000006');
    expect(text.slice(6 + 11 * 8, 6 + 12 * 8)).toBe('0000000C');
    expect(text).toContain('preseed.cfg\0');
    expect(text).toContain('d-i x\n');
    expect(text).toContain('TRAILER!!!\0');
    expect(archive.length % 4).toBe(0);
    expect(gunzipSync(gzipSync(archive)).equals(Buffer.from(archive))).toBe(true);
  });
  test('the same input gives the same bytes', () => {
    const e = [
      { name: 'a', mode: 0o040755 },
      { name: 'a/b', mode: 0o100600, data: new Uint8Array([1, 2, 3]) },
    ];
    expect(cpioNewc(e)).toEqual(cpioNewc(e));
  });
  test('padding brings an initrd to a multiple of 4', () => {
    expect(initrdPadding(10).length).toBe(2);
    expect(initrdPadding(12).length).toBe(0);
  });
});
