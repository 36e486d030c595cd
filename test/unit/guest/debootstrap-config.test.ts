import { describe, expect, test } from '@jest/globals';
import { debootstrapTreeChanges, INTERFACES } from '../../../src/guest/debootstrap-config.js';
import { includedPackages } from '../../../src/steps/install-debootstrap-commands.js';

const facts = { hasIfupdown: true, hasNetworkd: true, hasLocaleGen: false, hasZone: true };

describe('debootstrap tree configuration', () => {
  test('fstab by label, hostname, ifupdown DHCP on the first NIC, zone', () => {
    const { changes, notes, generateLocale } = debootstrapTreeChanges(
      { locale: 'C.UTF-8', timezone: 'Etc/UTC', hostname: 'localhost' },
      facts,
    );
    const write = (path: string) => changes.find((c) => c.path === path);
    expect(write('/etc/fstab')).toMatchObject({
      content: expect.stringContaining('LABEL=cloudimg-rootfs\t/\text4'),
    });
    expect(write('/etc/network/interfaces')).toMatchObject({ content: INTERFACES });
    expect(INTERFACES).toContain('auto /e*/1=nic\niface nic inet dhcp');
    expect(write('/etc/localtime')).toEqual({
      kind: 'symlink',
      path: '/etc/localtime',
      target: '/usr/share/zoneinfo/Etc/UTC',
    });
    expect(write('/etc/udev/rules.d/70-persistent-net.rules')).toMatchObject({ kind: 'remove' });
    expect(notes).toEqual([]);
    expect(generateLocale).toBeNull();
  });
  test('systemd-networkd when there is no ifupdown', () => {
    const { changes } = debootstrapTreeChanges(
      { locale: 'C.UTF-8', timezone: 'UTC', hostname: 'h' },
      { ...facts, hasIfupdown: false },
    );
    expect(changes.map((c) => c.path)).toContain('/etc/systemd/network/80-emi-recipe-dhcp.network');
  });
  test('a locale that cannot be generated falls back to C.UTF-8 with a note', () => {
    const r = debootstrapTreeChanges(
      { locale: 'en_US.UTF-8', timezone: 'UTC', hostname: 'h' },
      facts,
    );
    expect(r.notes[0]).toMatch(/locales package/);
    expect(r.changes.find((c) => c.path === '/etc/default/locale')).toMatchObject({
      content: 'LANG=C.UTF-8\n',
    });
    const g = debootstrapTreeChanges(
      { locale: 'en_US.UTF-8', timezone: 'UTC', hostname: 'h' },
      { ...facts, hasLocaleGen: true },
    );
    expect(g.generateLocale).toBe('en_US.UTF-8');
    expect(g.changes.find((c) => c.path === '/etc/locale.gen')).toMatchObject({
      content: 'en_US.UTF-8 UTF-8\n',
    });
  });
  test('the kernel package comes first, once', () => {
    expect(
      includedPackages({
        source: 'debootstrap',
        arch: 'x86_64',
        suite: 'bookworm',
        variant: 'minbase',
        components: ['main'],
        mirror: null,
        kernelPackage: 'linux-image-cloud-amd64',
        packages: ['curl', 'linux-image-cloud-amd64'],
        locale: 'C',
        timezone: 'UTC',
        diskSizeBytes: 1,
        diskFormat: 'qcow2',
      }),
    ).toEqual(['linux-image-cloud-amd64', 'curl']);
  });
});
