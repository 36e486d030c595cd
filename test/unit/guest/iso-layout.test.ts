import { describe, expect, test } from '@jest/globals';
import {
  detectIsoLayout,
  installerKernelArgs,
  parseInstallerProgress,
  unrecognisedLayoutMessage,
} from '../../../src/guest/iso-layout.js';

describe('installer ISO layouts', () => {
  test('Debian installer', () => {
    expect(
      detectIsoLayout(
        ['/install.amd/vmlinuz', '/install.amd/initrd.gz', '/install.amd/gtk/vmlinuz'],
        'x86_64',
      ),
    ).toMatchObject({
      kind: 'debian-installer',
      kernel: '/install.amd/vmlinuz',
      initrd: '/install.amd/initrd.gz',
      answers: 'preseed',
    });
    expect(detectIsoLayout(['/install.386/vmlinuz', '/install.386/initrd.gz'], 'i386')?.kind).toBe(
      'debian-installer',
    );
  });
  test('Ubuntu live server and legacy', () => {
    expect(
      detectIsoLayout(
        ['/casper/vmlinuz', '/casper/initrd', '/casper/ubuntu-server-minimal.squashfs'],
        'x86_64',
      ),
    ).toMatchObject({ kind: 'ubuntu-live', answers: 'autoinstall' });
    expect(detectIsoLayout(['/install/vmlinuz', '/install/initrd.gz'], 'x86_64')).toMatchObject({
      kind: 'ubuntu-legacy',
      answers: 'preseed',
    });
    expect(
      detectIsoLayout(
        [
          '/install/netboot/ubuntu-installer/amd64/linux',
          '/install/netboot/ubuntu-installer/amd64/initrd.gz',
        ],
        'x86_64',
      )?.kind,
    ).toBe('ubuntu-legacy');
  });
  test('Red Hat family', () => {
    expect(
      detectIsoLayout(
        [
          '/images/pxeboot/vmlinuz',
          '/images/pxeboot/initrd.img',
          '/images/install.img',
          '/.treeinfo',
        ],
        'x86_64',
      ),
    ).toMatchObject({ kind: 'redhat', answers: 'kickstart' });
    expect(
      detectIsoLayout(['/isolinux/vmlinuz', '/isolinux/initrd.img', '/.treeinfo'], 'x86_64')
        ?.kernel,
    ).toBe('/isolinux/vmlinuz');
  });
  test('not recognised: says what it looked for and what is there', () => {
    const files = ['/boot/grub/grub.cfg', '/EFI/BOOT/BOOTX64.EFI', '/live/vmlinuz'];
    expect(detectIsoLayout(files, 'x86_64')).toBeNull();
    expect(unrecognisedLayoutMessage(files, 'x86_64')).toBe(
      "the ISO's layout is not recognised: none of /install.amd/vmlinuz, /casper/vmlinuz, /install/vmlinuz, /images/pxeboot/vmlinuz (with an initrd beside it) was found (top level: /boot, /EFI, /live). Use a Debian or Ubuntu installer, an Ubuntu live server or a Red Hat family (RHEL, Rocky, Alma, CentOS, Fedora) ISO, or install with install.debootstrap.",
    );
  });
  test('kernel arguments per flavour', () => {
    const layout = (answers: 'preseed' | 'kickstart' | 'autoinstall') => ({
      kind: 'redhat' as const,
      kernel: 'k',
      initrd: 'i',
      answers,
      description: '',
    });
    expect(
      installerKernelArgs(layout('preseed'), { volumeId: null, extra: ['net.ifnames=0'] }),
    ).toEqual([
      'console=ttyS0,115200n8',
      'auto=true',
      'priority=critical',
      'preseed/file=/preseed.cfg',
      'DEBIAN_FRONTEND=text',
      'net.ifnames=0',
    ]);
    expect(installerKernelArgs(layout('kickstart'), { volumeId: 'Rocky 9', extra: [] })).toEqual([
      'console=ttyS0,115200n8',
      'inst.ks=file:/ks.cfg',
      'inst.text',
      'inst.stage2=hd:LABEL=Rocky\\x209',
    ]);
    expect(installerKernelArgs(layout('autoinstall'), { volumeId: null, extra: [] })).toEqual([
      'console=ttyS0,115200n8',
      'autoinstall',
      'ds=nocloud',
    ]);
  });
  test('progress from console lines', () => {
    expect(parseInstallerProgress('emi-test-installer: 40% unpacking')).toEqual({
      percent: 40,
      message: 'emi-test-installer: 40% unpacking',
    });
    expect(parseInstallerProgress('Installing bash.x86_64 (12/300)')).toMatchObject({ percent: 4 });
    expect(
      parseInstallerProgress('\x1b[0mstart: subiquity/Install/install/curtin_install'),
    ).toEqual({ percent: null, message: 'subiquity/Install/install/curtin_install' });
    expect(parseInstallerProgress('[    1.2] random kernel line')).toBeNull();
  });
});
