import { describe, expect, test } from '@jest/globals';
import {
  debugfsError,
  debugfsRequest,
  fsckVerdict,
  isRegularMode,
  isSymlinkMode,
  mke2fsArgs,
  parseDebugfsLs,
  parseDumpe2fs,
  parseMinimumBlocks,
  quoteDebugfsArg,
  resize2fsArgs,
} from '../../../src/tools/e2fs.js';

describe('e2fsprogs', () => {
  test('mke2fs fills a file system from a directory at an offset', () => {
    expect(
      mke2fsArgs({
        image: 'd.raw',
        fromDir: 'tree',
        offsetBytes: 1048576,
        sizeBytes: 8192 * 4096 + 100,
        label: 'root',
      }),
    ).toEqual([
      '-q',
      '-F',
      '-t',
      'ext4',
      '-b',
      '4096',
      '-L',
      'root',
      '-E',
      'offset=1048576',
      '-d',
      'tree',
      'd.raw',
      '8192',
    ]);
  });
  test('e2fsck exit status in words', () => {
    expect(fsckVerdict(0)).toBe('clean');
    expect(fsckVerdict(1)).toBe('corrected');
    expect(fsckVerdict(2)).toBe('corrected');
    expect(fsckVerdict(4)).toBe('errors-left');
    expect(fsckVerdict(8)).toBe('failed');
    expect(fsckVerdict(12)).toBe('failed');
  });
  test('resize2fs sizes in KiB', () => {
    expect(resize2fsArgs('r.img', 2 * 2 ** 30)).toEqual(['-p', 'r.img', '2097152K']);
  });
  test('parses debugfs ls -p', () => {
    const out =
      '/2/040755/0/0/.//\n/2/040755/0/0/..//\n/12/100644/0/0/vmlinuz-6.1.0-18-amd64/8015552/\n\n/13/120777/0/0/initrd.img/30/\n';
    const entries = parseDebugfsLs(out);
    expect(entries).toEqual([
      { inode: 12, mode: 0o100644, uid: 0, gid: 0, name: 'vmlinuz-6.1.0-18-amd64', size: 8015552 },
      { inode: 13, mode: 0o120777, uid: 0, gid: 0, name: 'initrd.img', size: 30 },
    ]);
    expect(isRegularMode(entries[0]!.mode)).toBe(true);
    expect(isSymlinkMode(entries[1]!.mode)).toBe(true);
  });
  test('debugfs request errors are found in stderr', () => {
    expect(debugfsError('debugfs 1.47.0 (5-Feb-2023)\n/x: File not found by ext2_lookup \n')).toBe(
      '/x: File not found by ext2_lookup',
    );
    expect(debugfsError('debugfs 1.47.0 (5-Feb-2023)\n')).toBeNull();
  });
  test('dumpe2fs and resize2fs -P', () => {
    const text =
      'Filesystem volume name:   cloudimg-rootfs\nFilesystem UUID:          0b6c\nBlock count:              524032\nBlock size:               4096\n';
    expect(parseDumpe2fs(text)).toEqual({
      blockCount: 524032,
      blockSize: 4096,
      label: 'cloudimg-rootfs',
      uuid: '0b6c',
    });
    expect(
      parseDumpe2fs('Filesystem volume name:   <none>\nBlock count: 10\nBlock size: 1024\n')?.label,
    ).toBeNull();
    expect(parseDumpe2fs('nothing')).toBeNull();
    expect(
      parseMinimumBlocks('resize2fs 1.47.0\nEstimated minimum size of the filesystem: 154321\n'),
    ).toBe(154321);
  });
  test('debugfs arguments are quoted for its line parser; "" is one quote', () => {
    expect(debugfsRequest('dump', ['/boot/a b', '/w d/out'])).toEqual({
      ok: true,
      value: 'dump "/boot/a b" "/w d/out"',
    });
    expect(quoteDebugfsArg('/boot/q"x')).toEqual({ ok: true, value: '"/boot/q""x"' });
    expect(quoteDebugfsArg('/boot/se;mi #x \\y')).toEqual({
      ok: true,
      value: '"/boot/se;mi #x \\y"',
    });
    // An injected second argument stays inside the one quoted argument.
    expect(debugfsRequest('dump', ['/boot/x" "/etc/shadow', '/out'])).toEqual({
      ok: true,
      value: 'dump "/boot/x"" ""/etc/shadow" "/out"',
    });
  });
  test('values debugfs would misread even when quoted are refused', () => {
    const refused = (value: string) => {
      const r = quoteDebugfsArg(value);
      return r.ok ? undefined : r.error.detail;
    };
    expect(refused('/boot/vmlinuz\nrm /x')).toBe('it contains a control character (U+000A)');
    expect(refused('/boot/a\rb')).toBe('it contains a control character (U+000D)');
    expect(refused('/boot/a\tb')).toBe('it contains a control character (U+0009)');
    expect(refused('-p')).toBe('it starts with "-" (debugfs would read an option)');
    expect(refused('<12>')).toBe('it has the form <N> (debugfs would read an inode number)');
    expect(refused('')).toBe('it is empty');
    const r = debugfsRequest('dump', ['/boot/ok', '/out\nx']);
    expect(r.ok ? r.value : r.error.value).toBe('/out\nx');
  });
});
