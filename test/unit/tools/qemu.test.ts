import { describe, expect, test } from '@jest/globals';
import { cacheDir } from '../../../src/core/cache-dir.js';
import { guestfsEnv, vmArgs } from '../../../src/tools/qemu.js';
import {
  bootSectorProbeArgs,
  kernelProbeArgs,
  kernelProbeReached,
  parseQemuVersion,
  probeBootSector,
  probeKey,
  PROBE_MARKER,
} from '../../../src/tools/qemu-accel.js';
import { parseShutdownEvent, qmpClientArgs } from '../../../src/tools/qmp.js';

describe('qemu-system-x86_64', () => {
  test('installer VM: direct kernel boot, serial on stdio, no display, no reboot', () => {
    const args = vmArgs({
      accel: 'tcg',
      memoryBytes: 2 ** 30,
      cpus: 2,
      kernel: 'k',
      initrd: 'i',
      append: 'console=ttyS0',
      drives: [
        { path: 'd,1.qcow2', format: 'qcow2', media: 'disk' },
        { path: 'a.iso', format: 'raw', media: 'cdrom' },
        { path: 'seed.iso', format: 'raw', media: 'cdrom' },
      ],
      network: true,
      extra: ['-x'],
    });
    expect(args.join(' ')).toBe(
      '-name emi-recipe -nodefaults -no-user-config -display none -accel tcg -cpu max -m 1024M -smp 2 -serial stdio -no-reboot -kernel k -initrd i -append console=ttyS0 ' +
        '-drive file=d,,1.qcow2,format=qcow2,if=virtio,cache=unsafe -drive file=a.iso,format=raw,media=cdrom,readonly=on,if=ide,index=2 -drive file=seed.iso,format=raw,media=cdrom,readonly=on,if=ide,index=3 ' +
        '-netdev user,id=net0 -device virtio-net-pci,netdev=net0 -x',
    );
    expect(
      vmArgs({
        accel: 'kvm',
        memoryBytes: 2 ** 29,
        cpus: 1,
        kernel: 'k',
        initrd: 'i',
        append: '',
        drives: [],
        network: false,
      }),
    ).toContain('host');
  });
  test('probe boot sector: 512 bytes, boot signature, marker after the code', () => {
    const s = probeBootSector();
    expect(s.length).toBe(512);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
    // mov si, 0x7c1c points at the message, 28 bytes in.
    expect([s[5], s[6], s[7]]).toEqual([0xbe, 0x1c, 0x7c]);
    expect(new TextDecoder().decode(s.subarray(28, 28 + PROBE_MARKER.length))).toBe(PROBE_MARKER);
  });
  test('probe argv and verdicts', () => {
    expect(bootSectorProbeArgs('kvm', '/t/p.img')).toEqual(
      expect.arrayContaining([
        '-accel',
        'kvm',
        'isa-debug-exit,iobase=0xf4,iosize=0x04',
        'file=/t/p.img,format=raw,if=floppy',
      ]),
    );
    expect(kernelProbeArgs('kvm', '/boot/vmlinuz-x')).toEqual(
      expect.arrayContaining(['-no-reboot', '-kernel', '/boot/vmlinuz-x']),
    );
    expect(
      kernelProbeReached('[ 1.5] Kernel panic - not syncing: VFS: Unable to mount root fs'),
    ).toBe(true);
    expect(kernelProbeReached('[ 0.1] Linux version 6.1')).toBe(false);
    expect(
      parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright'),
    ).toBe('7.2.22');
    expect(probeKey('6.1.0', '7.2.22')).toBe('linux-6.1.0/qemu-7.2.22');
  });
  test('cache directory and libguestfs environment', () => {
    expect(cacheDir({ EMI_RECIPE_CACHE_DIR: '/c' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/emi-recipe');
    expect(guestfsEnv('tcg')).toEqual({
      LIBGUESTFS_BACKEND: 'direct',
      LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg',
    });
    expect(guestfsEnv('kvm')).toEqual({ LIBGUESTFS_BACKEND: 'direct' });
  });
  test('QMP: shutdown reasons', () => {
    expect(
      parseShutdownEvent(
        '{"timestamp": {"seconds": 1}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}',
      ),
    ).toEqual({ guest: true, reason: 'guest-shutdown' });
    expect(
      parseShutdownEvent('{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-reset"}}'),
    ).toEqual({ guest: true, reason: 'guest-reset' });
    expect(parseShutdownEvent('{"event": "RESUME"}')).toBeNull();
    expect(parseShutdownEvent('{"QMP": {}}')).toBeNull();
    expect(parseShutdownEvent('garbage')).toBeNull();
    expect(qmpClientArgs('/s/q.sock')).toEqual([
      '-chardev',
      'socket,id=emi-qmp,path=/s/q.sock',
      '-mon',
      'chardev=emi-qmp,mode=control',
    ]);
  });
});
