import { describe, expect, test } from '@jest/globals';
import {
  chooseRootVolume,
  identifyFileSystem,
  parsePartitionTable,
  singlePartitionBytes,
  singlePartitionMbr,
  type Volume,
} from '../../../src/guest/disk-layout.js';

function ext4Superblock(options: { label: string; incompat: number; compat: number }): Uint8Array {
  const b = new Uint8Array(8192);
  const v = new DataView(b.buffer);
  v.setUint16(1024 + 56, 0xef53, true);
  v.setUint32(1024 + 92, options.compat, true);
  v.setUint32(1024 + 96, options.incompat, true);
  b.set([0x0b, 0x6c, 0x1f, 0x2a, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 1024 + 104);
  b.set(new TextEncoder().encode(options.label), 1024 + 120);
  return b;
}

describe('partition tables', () => {
  test('the debootstrap MBR reads back as one partition from 1 MiB to the end', () => {
    const disk = 2 * 2 ** 30;
    const mbr = singlePartitionMbr(disk);
    const table = parsePartitionTable(mbr);
    expect(table).toEqual({
      kind: 'mbr',
      partitions: [{ number: 1, offsetBytes: 1048576, sizeBytes: disk - 1048576, type: '0x83' }],
    });
    expect(singlePartitionBytes(disk)).toBe(disk - 1048576);
    expect(mbr[446]).toBe(0x80);
  });
  test('no boot signature or no entries: no table', () => {
    expect(parsePartitionTable(new Uint8Array(512)).kind).toBe('none');
    const bootSector = new Uint8Array(512);
    bootSector[510] = 0x55;
    bootSector[511] = 0xaa;
    expect(parsePartitionTable(bootSector).kind).toBe('none');
  });
  test('GPT behind a protective MBR', () => {
    const head = new Uint8Array(34 * 512);
    const v = new DataView(head.buffer);
    head[446 + 4] = 0xee;
    v.setUint32(446 + 8, 1, true);
    v.setUint32(446 + 12, 0xffffffff, true);
    head[510] = 0x55;
    head[511] = 0xaa;
    head.set(new TextEncoder().encode('EFI PART'), 512);
    v.setBigUint64(512 + 72, 2n, true);
    v.setUint32(512 + 80, 128, true);
    v.setUint32(512 + 84, 128, true);
    // Entry 1: BIOS boot (1 MiB), entry 2: Linux data.
    const entry = (i: number, type: number[], first: number, last: number): void => {
      const at = 1024 + i * 128;
      head.set(type, at);
      v.setBigUint64(at + 32, BigInt(first), true);
      v.setBigUint64(at + 40, BigInt(last), true);
    };
    entry(
      0,
      [
        0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e, 0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46,
        0x49,
      ],
      2048,
      4095,
    );
    entry(
      1,
      [
        0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d,
        0xe4,
      ],
      4096,
      8191,
    );
    const table = parsePartitionTable(head);
    expect(table).toEqual({
      kind: 'gpt',
      partitions: [
        {
          number: 1,
          offsetBytes: 2048 * 512,
          sizeBytes: 2048 * 512,
          type: '21686148-6449-6e6f-744e-656564454649',
        },
        {
          number: 2,
          offsetBytes: 4096 * 512,
          sizeBytes: 4096 * 512,
          type: '0fc63daf-8483-4772-8e79-3d69d8477de4',
        },
      ],
    });
  });
});

describe('file-system signatures', () => {
  test('ext4, ext3, ext2 by feature flags, with label and uuid', () => {
    expect(
      identifyFileSystem(
        ext4Superblock({ label: 'cloudimg-rootfs', incompat: 0x2c2, compat: 0x3c }),
      ),
    ).toEqual({
      kind: 'ext4',
      label: 'cloudimg-rootfs',
      uuid: '0b6c1f2a-0001-0203-0405-060708090a0b',
    });
    expect(identifyFileSystem(ext4Superblock({ label: '', incompat: 0x2, compat: 0x4 })).kind).toBe(
      'ext3',
    );
    expect(
      identifyFileSystem(ext4Superblock({ label: '', incompat: 0x2, compat: 0 })),
    ).toMatchObject({ kind: 'ext2', label: null });
  });
  test('xfs, swap, unknown', () => {
    const xfs = new Uint8Array(8192);
    xfs.set(new TextEncoder().encode('XFSB'), 0);
    expect(identifyFileSystem(xfs).kind).toBe('xfs');
    const swap = new Uint8Array(8192);
    swap.set(new TextEncoder().encode('SWAPSPACE2'), 4086);
    expect(identifyFileSystem(swap).kind).toBe('swap');
    expect(identifyFileSystem(new Uint8Array(8192)).kind).toBe('unknown');
  });
  test('the root is the largest Linux file system, never swap', () => {
    const v = (number: number, size: number, kind: 'ext4' | 'swap' | 'unknown'): Volume => ({
      number,
      offsetBytes: 0,
      sizeBytes: size,
      fs: { kind, label: null, uuid: null },
    });
    expect(
      chooseRootVolume([v(1, 100, 'ext4'), v(2, 500, 'swap'), v(3, 300, 'ext4')])?.number,
    ).toBe(3);
    expect(chooseRootVolume([v(1, 100, 'swap'), v(2, 100, 'unknown')])).toBeNull();
  });
});
