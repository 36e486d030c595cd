import { describe, expect, test } from '@jest/globals';
import {
  bootFileKind,
  bootPairs,
  chooseBootPair,
  compareVersions,
} from '../../../src/guest/boot-files.js';

describe('kernel versions', () => {
  test("dpkg's order", () => {
    expect(compareVersions('6.1.0-18-amd64', '6.1.0-21-amd64')).toBeLessThan(0);
    expect(compareVersions('6.1.0-9-amd64', '6.1.0-10-amd64')).toBeLessThan(0);
    expect(compareVersions('5.10~rc1', '5.10')).toBeLessThan(0);
    expect(compareVersions('5.14.0-427.el9.x86_64', '5.14.0-70.el9.x86_64')).toBeGreaterThan(0);
    expect(compareVersions('1.0', '1.0')).toBe(0);
  });
  test('pairs kernels with their initrds across distributions, skipping backups and rescue', () => {
    const names = [
      'config-6.1.0-18-amd64',
      'vmlinuz-6.1.0-18-amd64',
      'initrd.img-6.1.0-18-amd64',
      'vmlinuz-6.1.0-9-amd64',
      'initrd.img-6.1.0-9-amd64',
      'vmlinuz-5.14.0-70.el9.x86_64',
      'initramfs-5.14.0-70.el9.x86_64.img',
      'vmlinuz-0-rescue-abc',
      'initramfs-0-rescue-abc.img',
      'initrd.img-6.1.0-18-amd64.dpkg-bak',
    ];
    expect(bootPairs(names).map((p) => p.version)).toEqual([
      '5.14.0-70.el9.x86_64',
      '6.1.0-9-amd64',
      '6.1.0-18-amd64',
    ]);
  });
  test('newest, named, or a message saying what exists', () => {
    const names = [
      'vmlinuz-6.1.0-9-amd64',
      'initrd.img-6.1.0-9-amd64',
      'vmlinuz-6.1.0-18-amd64',
      'initrd.img-6.1.0-18-amd64',
    ];
    expect(chooseBootPair(names, 'newest')).toEqual({
      ok: true,
      pair: {
        version: '6.1.0-18-amd64',
        kernel: 'vmlinuz-6.1.0-18-amd64',
        initrd: 'initrd.img-6.1.0-18-amd64',
      },
    });
    expect(chooseBootPair(names, '6.1.0-9-amd64')).toMatchObject({
      ok: true,
      pair: { version: '6.1.0-9-amd64' },
    });
    expect(chooseBootPair(names, '6.2')).toEqual({
      ok: false,
      message:
        'extract.kernel is 6.2, but /boot has 6.1.0-9-amd64, 6.1.0-18-amd64: name one of these, or newest',
    });
    expect(chooseBootPair(['vmlinuz-6.1'], 'newest')).toMatchObject({
      ok: false,
      message: expect.stringContaining('no matching initrd'),
    });
    expect(chooseBootPair([], 'newest')).toMatchObject({
      ok: false,
      message: expect.stringContaining('no kernel'),
    });
  });
  test('file kinds by magic', () => {
    const kernel = new Uint8Array(1024);
    kernel.set(new TextEncoder().encode('HdrS'), 0x202);
    expect(bootFileKind(kernel)).toBe('linux-kernel');
    expect(bootFileKind(new Uint8Array([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(bootFileKind(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(bootFileKind(new TextEncoder().encode('070701000000'))).toBe('cpio');
    expect(bootFileKind(new Uint8Array([1, 2, 3]))).toBe('unknown');
  });
});
