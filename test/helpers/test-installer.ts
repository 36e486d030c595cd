// A small installer ISO the tests build themselves, laid out like Debian's
// (/install.amd/vmlinuz + initrd.gz): the host's Debian kernel and a busybox initrd
// whose /init reads the injected /preseed.cfg, partitions the disk it names, makes a
// file system, unpacks a tiny root file system (with /boot/vmlinuz-* and
// /boot/initrd.img-*) and powers off. The "broken" variant never powers off.
// The "hvm" variant's system can be made bootable: an apt-get stand-in whose
// `install grub-pc` unpacks the host's GRUB for BIOS (grub-pc-bin's modules and
// grub-mkimage with its libraries), and a /boot initrd that, booted by GRUB, prints its
// command line, finds the root file system it names, prints the system's release line
// from it and powers off (the system has no sshd: it cannot be logged into).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, type CpioEntry } from '../../src/guest/cpio-newc.js';
import { buildIsoArgs } from '../../src/tools/xorriso.js';

const BUSYBOX = '/bin/busybox';
const VIRTIO = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'virtio_blk',
];

/** The newest Debian kernel in /boot and its version. */
export function hostKernel(): { path: string; version: string } {
  const names = readdirSync('/boot')
    .filter((n) => /^vmlinuz-/.test(n))
    .sort();
  const name = names.at(-1);
  if (!name)
    throw new Error(
      'no /boot/vmlinuz-*: install linux-image-cloud-amd64 (scripts/install-host-tools)',
    );
  return { path: join('/boot', name), version: name.slice('vmlinuz-'.length) };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const dir = (name: string): CpioEntry => ({ name, mode: 0o040755 });
const file = (name: string, data: Uint8Array, mode = 0o100644): CpioEntry => ({ name, mode, data });
const link = (name: string, target: string): CpioEntry => ({
  name,
  mode: 0o120777,
  data: text(target),
});

function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
}

/** A busybox system: /bin/busybox and a symlink per applet. */
function busyboxEntries(): CpioEntry[] {
  return [
    dir('bin'),
    file('bin/busybox', new Uint8Array(readFileSync(BUSYBOX)), 0o100755),
    ...busyboxApplets()
      .filter((a) => a !== '[' && a !== '[[')
      .map((a) => link(`bin/${a}`, 'busybox')),
  ];
}

/** The host's GRUB for BIOS (package grub-pc-bin). */
export const HOST_GRUB_MODULES = '/usr/lib/grub/i386-pc';

/** Entries for the host's `path` and every library ldd names, at their paths (links resolved). */
function programEntries(path: string): CpioEntry[] {
  const files = [path];
  const ldd = execFileSync('ldd', [path], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) if (m[1]) files.push(m[1]);
  return files.map((f) =>
    file(f.slice(1), new Uint8Array(readFileSync(realpathSync(f))), 0o100755),
  );
}

/** What the stand-in apt-get unpacks for grub-pc: the host's i386-pc modules and grub-mkimage. */
function grubPackageArchive(): Uint8Array {
  const modules = readdirSync(HOST_GRUB_MODULES).map((name) =>
    file(
      `${HOST_GRUB_MODULES.slice(1)}/${name}`,
      new Uint8Array(readFileSync(join(HOST_GRUB_MODULES, name))),
    ),
  );
  return gzipSync(cpioNewc([...modules, ...programEntries('/usr/bin/grub-mkimage')]));
}

/** Records its arguments; `install … grub-pc …` unpacks the staged GRUB into /. */
const FAKE_APT_GET = `#!/bin/sh
echo "apt-get $*" >> /var/log/emi-test-apt.log
case " $* " in
  *" grub-pc "*) cd / && gunzip -c /var/cache/emi-test/grub-pc.cpio.gz | cpio -idmu 2>/dev/null ;;
esac
exit 0
`;

/** The release line the booted initrd prints from the root file system it found. */
export const TEST_RELEASE = 'emi-test-system 1 (busybox)';

/** /init of the image's own initrd (hvm variant): what GRUB boots. */
const BOOT_INIT = `#!/bin/sh
export PATH=/bin
mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "emi-test-system: $*"; }
say "booted with: $(cat /proc/cmdline)"
for m in ${VIRTIO.join(' ')}; do insmod /lib/modules/$m.ko || say "insmod $m failed"; done
root=$(sed -n 's/.*root=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
n=0; dev=""; while [ -z "$dev" ] && [ $n -lt 100 ]; do dev=$(findfs "$root" 2>/dev/null); [ -z "$dev" ] && sleep 0.1; n=$((n+1)); done
if [ -n "$dev" ] && mount -o ro "$dev" /newroot; then
  say "root $root is $dev: $(cat /newroot/etc/emi-test-release)"
  umount /newroot
else
  say "root $root not found"
fi
poweroff -f
`;

/** The installed system: busybox, /etc basics, and a kernel + initrd in /boot. */
function rootfsArchive(kernel: { path: string; version: string }, hvm: boolean): Uint8Array {
  const bootInitrd = gzipSync(
    cpioNewc(
      hvm
        ? [
            ...busyboxEntries(),
            file('init', text(BOOT_INIT), 0o100755),
            ...virtioModuleEntries(kernel.version),
          ]
        : [file('init', text('#!/bin/sh\necho tiny initrd\n'), 0o100755)],
    ),
  );
  const hvmEntries: CpioEntry[] = hvm
    ? [
        file('etc/emi-test-release', text(`${TEST_RELEASE}\n`)),
        dir('usr'),
        dir('usr/bin'),
        file('usr/bin/apt-get', text(FAKE_APT_GET), 0o100755),
        dir('var/cache'),
        dir('var/cache/emi-test'),
        file('var/cache/emi-test/grub-pc.cpio.gz', grubPackageArchive()),
        dir('var/log'),
      ]
    : [];
  return gzipSync(
    cpioNewc([
      ...busyboxEntries(),
      dir('etc'),
      file('etc/passwd', text('root:x:0:0:root:/root:/bin/sh\n')),
      file('etc/group', text('root:x:0:\n')),
      file('etc/fstab', text('LABEL=cloudimg-rootfs / ext2 defaults 0 1\n')),
      dir('etc/udev'),
      dir('etc/udev/rules.d'),
      file('etc/udev/rules.d/70-persistent-net.rules', text('# the build VM NIC\n')),
      dir('boot'),
      file(`boot/vmlinuz-${kernel.version}`, new Uint8Array(readFileSync(kernel.path))),
      file(`boot/initrd.img-${kernel.version}`, new Uint8Array(bootInitrd)),
      dir('root'),
      dir('tmp'),
      dir('var'),
      dir('var/tmp'),
      dir('proc'),
      dir('sys'),
      dir('dev'),
      ...hvmEntries,
    ]),
  );
}

/** The host kernel's virtio block modules, as lib/modules/<name>.ko. */
function virtioModuleEntries(version: string): CpioEntry[] {
  const modules = `/lib/modules/${version}/kernel`;
  const moduleFile = (m: string): string =>
    execFileSync('find', [modules, '-name', `${m}.ko`], { encoding: 'utf8' })
      .trim()
      .split('\n')[0] ?? '';
  return [
    dir('lib'),
    dir('lib/modules'),
    ...VIRTIO.map((m) => file(`lib/modules/${m}.ko`, new Uint8Array(readFileSync(moduleFile(m))))),
  ];
}

const INIT = `#!/bin/sh
export PATH=/bin
mkdir -p /proc /sys /dev /target
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
say() { echo "emi-test-installer: $*"; }
say "5% starting"
if [ ! -f /preseed.cfg ]; then say "no /preseed.cfg in the initrd"; while :; do sleep 60; done; fi
disk=$(sed -n 's|^d-i partman-auto/disk string ||p' /preseed.cfg)
say "preseed names disk $disk"
for m in ${VIRTIO.join(' ')}; do insmod /lib/modules/$m.ko || say "insmod $m failed"; done
n=0; while [ ! -b "$disk" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
say "20% partitioning $disk"
printf 'o\\nn\\np\\n1\\n2048\\n\\nw\\n' | fdisk "$disk" >/dev/null 2>&1
n=0; while [ ! -b "\${disk}1" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
say "40% making the file system"
mke2fs -q -L cloudimg-rootfs "\${disk}1"
mount -t ext4 "\${disk}1" /target
say "60% unpacking the root file system"
(cd /target && gunzip -c /rootfs.cpio.gz | cpio -idm 2>/dev/null)
cp /preseed.cfg /target/root/preseed.cfg
umount /target
sync
say "100% done, powering off"
poweroff -f
`;

const BROKEN_INIT = `#!/bin/sh
export PATH=/bin
echo "emi-test-installer: broken on purpose, never powers off"
while :; do sleep 1; done
`;

/**
 * Builds the ISO at `out`; `broken` makes an installer that hangs, `hvm` a system that
 * can be made bootable (needs the host's grub-pc-bin). Returns the kernel version inside.
 */
export function buildTestInstallerIso(
  out: string,
  work: string,
  options: { readonly broken?: boolean; readonly hvm?: boolean } = {},
): { version: string } {
  const kernel = hostKernel();
  const initrd = gzipSync(
    cpioNewc([
      ...busyboxEntries(),
      file('init', text(options.broken === true ? BROKEN_INIT : INIT), 0o100755),
      ...virtioModuleEntries(kernel.version),
      file('rootfs.cpio.gz', rootfsArchive(kernel, options.hvm === true)),
    ]),
  );
  const tree = join(work, 'iso-tree');
  mkdirSync(join(tree, 'install.amd'), { recursive: true });
  writeFileSync(join(tree, 'install.amd', 'vmlinuz'), readFileSync(kernel.path));
  writeFileSync(join(tree, 'install.amd', 'initrd.gz'), initrd);
  writeFileSync(join(tree, 'README.txt'), 'emi-recipe test installer\n');
  execFileSync('xorriso', buildIsoArgs({ dir: tree, out, volumeId: 'EMI_TEST_INSTALLER' }), {
    stdio: 'ignore',
  });
  return { version: kernel.version };
}
