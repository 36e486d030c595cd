import { describe, expect, test } from '@jest/globals';
import {
  loopDevicesBelow,
  losetupListArgs,
  mountArgs,
  mountsBelow,
  umountArgs,
  unescapeMountPath,
} from '../../../src/tools/mount.js';
import { nsenterArgs, unshareArgs } from '../../../src/tools/namespace.js';

const MOUNTS = [
  'sysfs /sys sysfs rw 0 0',
  '/dev/loop0 /w/tmp/c-1/root ext4 rw 0 0',
  'proc /w/tmp/c-1/root/proc proc rw 0 0',
  'udev /w/tmp/c-1/root/dev devtmpfs rw 0 0',
  'devpts /w/tmp/c-1/root/dev/pts devpts rw 0 0',
  'tmpfs /w/other tmpfs rw 0 0',
  'tmpfs /wx/tmp tmpfs rw 0 0',
  'tmpfs /w\\011tab/x tmpfs rw 0 0',
  'tmpfs /w\\134back\\040slash tmpfs rw 0 0',
].join('\n');

describe('mount, umount, losetup', () => {
  test('argv', () => {
    expect(mountArgs({ kind: 'loop', image: '/i.img' }, '/m')).toEqual([
      '-o',
      'loop',
      '/i.img',
      '/m',
    ]);
    expect(
      mountArgs({ kind: 'loop', image: '/d.raw', offsetBytes: 1048576, sizeBytes: 4096 }, '/m'),
    ).toEqual(['-o', 'loop,offset=1048576,sizelimit=4096', '/d.raw', '/m']);
    expect(mountArgs({ kind: 'bind', source: '/dev' }, '/m/dev')).toEqual([
      '--bind',
      '/dev',
      '/m/dev',
    ]);
    expect(umountArgs('/m')).toEqual(['/m']);
    expect(umountArgs('/m', { lazy: true })).toEqual(['--lazy', '/m']);
    expect(losetupListArgs()).toEqual([
      '--list',
      '--noheadings',
      '--raw',
      '--output',
      'NAME,BACK-FILE',
    ]);
  });

  test('mounts at or below a directory, deepest first, never a sibling with the same prefix', () => {
    expect(mountsBelow(MOUNTS, '/w/tmp')).toEqual([
      '/w/tmp/c-1/root/dev/pts',
      '/w/tmp/c-1/root/proc',
      '/w/tmp/c-1/root/dev',
      '/w/tmp/c-1/root',
    ]);
    expect(mountsBelow(MOUNTS, '/w')).toContain('/w/other');
    expect(mountsBelow(MOUNTS, '/w')).not.toContain('/wx/tmp');
  });

  test('octal escapes of /proc/mounts are decoded (tab, backslash, space), not only spaces', () => {
    expect(unescapeMountPath('/a\\040b\\011c\\012d\\134e')).toBe('/a b\tc\nd\\e');
    expect(mountsBelow(MOUNTS, '/w\ttab')).toEqual(['/w\ttab/x']);
    expect(mountsBelow(MOUNTS, '/w\\back slash')).toEqual(['/w\\back slash']);
  });

  test('loop devices whose backing file is below a directory, deleted or with escaped characters', () => {
    const list = [
      '/dev/loop0 /w/tmp/c-1/root.img',
      '/dev/loop1 /w/tmp/a\\x20b.img\\x20(deleted)',
      '/dev/loop2 /wx/root.img',
      '/dev/loop3 /var/lib/other.img',
      '',
    ].join('\n');
    expect(loopDevicesBelow(list, '/w')).toEqual(['/dev/loop0', '/dev/loop1']);
  });

  test('the namespace holder and nsenter: private propagation, a PID namespace whose init dies with unshare', () => {
    expect(unshareArgs()).toEqual([
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      '--',
      'sleep',
      'infinity',
    ]);
    expect(nsenterArgs(42, 'chroot', ['/m', '/bin/sh'])).toEqual([
      '--mount=/proc/42/ns/mnt',
      '--pid=/proc/42/ns/pid_for_children',
      '--',
      'chroot',
      '/m',
      '/bin/sh',
    ]);
    expect(nsenterArgs(42, 'ls', [], '/w')).toContain('--wd=/w');
  });
});
