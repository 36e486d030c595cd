// GRUB for BIOS in hvm images: the boot sectors as grub-bios-setup writes them for an MBR
// disk (boot.img's code in the MBR with the partition table kept, core.img from sector 1
// with its blocklist naming the sectors after it), the grub.cfg and the chroot script.
import { describe, expect, test } from '@jest/globals';
import {
  embedGrub,
  grubConfig,
  grubDefaults,
  grubInstallScript,
  kernelCommandLine,
} from '../../../src/guest/grub-bios.js';
import { singlePartitionMbr } from '../../../src/guest/disk-layout.js';

const MiB = 1024 * 1024;

/** A stand-in boot.img: recognisable code bytes and the 55 AA signature. */
function bootImg(): Uint8Array {
  const b = new Uint8Array(512).fill(0xb0);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** A stand-in core.img of `sectors` sectors whose first sector ends in diskboot.img's blocklist. */
function coreImg(sectors: number, bytes = sectors * 512): Uint8Array {
  const c = new Uint8Array(bytes).fill(0xc0);
  const view = new DataView(c.buffer);
  view.setBigUint64(500, 2n, true); // blocklist_default_start
  view.setUint16(508, sectors - 1, true); // grub-mkimage's length
  view.setUint16(510, 0x820, true); // blocklist_default_seg
  return c;
}

function head(): Uint8Array {
  const h = new Uint8Array(MiB);
  h.set(singlePartitionMbr(2 * 1024 * MiB), 0);
  return h;
}

describe('embedGrub', () => {
  test('boot.img code in the MBR, disk id and partition table kept, core.img from sector 1', () => {
    const before = head();
    const r = embedGrub(before, bootImg(), coreImg(60));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const out = r.value;
    const view = new DataView(out.buffer);
    expect(out.length).toBe(MiB);
    // Code from boot.img (outside the patched fields)...
    expect(out[0]).toBe(0xb0);
    expect(out[0x1b7]).toBe(0xb0);
    // ...the kernel sector (0x5c, u64) is 1 and the drive check (0x66) is two NOPs...
    expect(view.getBigUint64(0x5c, true)).toBe(1n);
    expect([out[0x66], out[0x67]]).toEqual([0x90, 0x90]);
    // ...the BPB area, disk id, partition table and signature are the disk's own.
    expect(out.subarray(3, 0x5a)).toEqual(before.subarray(3, 0x5a));
    expect(out.subarray(0x1b8, 512)).toEqual(before.subarray(0x1b8, 512));
    // core.img at sector 1, its remaining 59 sectors starting at sector 2.
    expect(out[512]).toBe(0xc0);
    expect(view.getBigUint64(512 + 500, true)).toBe(2n);
    expect(view.getUint16(512 + 508, true)).toBe(59);
    expect(view.getUint16(512 + 510, true)).toBe(0x820);
    expect(out[61 * 512 - 1]).toBe(0xc0);
    // Nothing past core.img is touched; the input is not changed.
    expect(out[61 * 512]).toBe(0);
    expect(before[0]).toBe(0);
  });

  test('a core.img that ends mid-sector is padded and counted in whole sectors', () => {
    const r = embedGrub(head(), bootImg(), coreImg(3, 2 * 512 + 100));
    expect(r.ok && new DataView(r.value.buffer).getUint16(512 + 508, true)).toBe(2);
  });

  test('refuses a core.img that does not fit before the first partition', () => {
    const small = head().subarray(0, 32 * 1024);
    const r = embedGrub(small, bootImg(), coreImg(100));
    expect(r).toEqual({
      ok: false,
      error: { reason: 'gap-too-small', coreBytes: 100 * 512, gapBytes: 32 * 1024 - 512 },
    });
  });

  test('refuses a boot.img without the boot signature, and a core.img without diskboot', () => {
    expect(embedGrub(head(), new Uint8Array(512), coreImg(4)).ok).toBe(false);
    const noBlocklist = coreImg(4);
    noBlocklist[510] = 0;
    noBlocklist[511] = 0;
    const r = embedGrub(head(), bootImg(), noBlocklist);
    expect(!r.ok && r.error.reason).toBe('bad-core-img');
  });
});

describe('grub.cfg, defaults and the chroot script', () => {
  const spec = {
    kernelVersion: '6.1.0-18-cloud-amd64',
    rootUuid: '0a1b2c3d-0000-4000-8000-00000000abcd',
    partition: 'msdos1',
    kernelArgs: [],
  };

  test('the kernel command line has the root by UUID and the console on tty0 and ttyS0 (ttyS0 last)', () => {
    expect(kernelCommandLine(spec)).toBe(
      'root=UUID=0a1b2c3d-0000-4000-8000-00000000abcd ro console=tty0 console=ttyS0,115200n8',
    );
    const cfg = grubConfig(spec);
    expect(cfg).toContain(
      '\tlinux /boot/vmlinuz-6.1.0-18-cloud-amd64 root=UUID=0a1b2c3d-0000-4000-8000-00000000abcd ro console=tty0 console=ttyS0,115200n8',
    );
    expect(cfg).toContain('\tinitrd /boot/initrd.img-6.1.0-18-cloud-amd64');
    expect(cfg).toContain('search --no-floppy --fs-uuid --set=root 0a1b2c3d');
    expect(cfg).toContain('set timeout=0');
    expect(grubDefaults(spec)).toContain(
      'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"',
    );
  });

  test("the script makes core.img with the image's grub-mkimage, prefix on the root partition", () => {
    const script = grubInstallScript({ partition: 'msdos2' });
    expect(script).toContain(
      "grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -o /boot/grub/i386-pc/core.img -p '(hd0,msdos2)/boot/grub' biosdisk part_msdos ext2",
    );
    expect(script).toContain('grub-pc grub-pc/install_devices_empty boolean true');
    expect(script.startsWith('#!/bin/sh\nset -eu\n')).toBe(true);
  });
});
