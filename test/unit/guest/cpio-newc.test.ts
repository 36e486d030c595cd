// The cpio "newc" writer, byte for byte against an archive GNU cpio wrote (test/fixtures/cpio).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { cpioNewc, initrdPadding } from '../../../src/guest/cpio-newc.js';
import { repoPath } from '../../helpers/paths.js';

const HEADER = 110;
const hexField = (archive: Buffer, at: number, field: number): number =>
  parseInt(archive.toString('latin1', at + 6 + field * 8, at + 6 + (field + 1) * 8), 16);
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** A copy with every header's inode field (c_ino) set to 0s; also returns the records' names. */
function maskInodes(archive: Buffer): { bytes: Buffer; names: string[] } {
  const bytes = Buffer.from(archive);
  const names: string[] = [];
  let at = 0;
  for (;;) {
    expect(bytes.toString('latin1', at, at + 6)).toBe('070701');
    bytes.write('00000000', at + 6, 'latin1');
    const fileSize = hexField(bytes, at, 6);
    const nameSize = hexField(bytes, at, 11);
    const name = bytes.toString('latin1', at + HEADER, at + HEADER + nameSize - 1);
    names.push(name);
    at += HEADER + nameSize + pad4(HEADER + nameSize);
    at += fileSize + pad4(fileSize);
    if (name === 'TRAILER!!!') return { bytes: bytes.subarray(0, at), names };
  }
}

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
  });
  test('the bytes GNU cpio writes for the same files (headers, names, padding, trailer)', () => {
    const ours = cpioNewc([
      { name: 'preseed.cfg', mode: 0o100644, data: new TextEncoder().encode('d-i x\n') },
      { name: 'a', mode: 0o040755 },
      { name: 'a/b', mode: 0o100600, data: new Uint8Array([1, 2, 3]) },
    ]);
    const gnu = readFileSync(repoPath('test', 'fixtures', 'cpio', 'gnu-newc.cpio'));
    const theirs = maskInodes(gnu);
    const mine = maskInodes(Buffer.from(ours));
    expect(mine.names).toEqual(['preseed.cfg', 'a', 'a/b', 'TRAILER!!!']);
    expect(mine.names).toEqual(theirs.names);
    expect(mine.bytes.length).toBe(ours.length); // nothing after the trailer's padding
    expect(mine.bytes.toString('latin1')).toBe(theirs.bytes.toString('latin1'));
    // GNU cpio pads the archive to its 512-byte block with zeros; nothing else follows.
    expect(gnu.subarray(theirs.bytes.length).every((b) => b === 0)).toBe(true);
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
