// GRUB for BIOS in a whole-disk (hvm) image, from the image's own grub-pc: the script
// run in the image (grub-mkimage makes core.img from the image's modules), the grub.cfg
// naming the kernel with the console on tty0 and ttyS0, and the boot sectors written
// as grub-install (grub-bios-setup) writes them for an MBR disk: boot.img in the MBR,
// core.img embedded after it. Pure; steps/make-bootable.ts runs and writes them.

const SECTOR = 512;

/** The kernel command line's consoles: ttyS0 last, so it is /dev/console (serial logs, AWS's console output). */
export const HVM_CONSOLES = ['console=tty0', 'console=ttyS0,115200n8'] as const;

/** Where the script leaves core.img and the image's boot.img, inside the image. */
export const GRUB_DIR = '/boot/grub';
export const CORE_IMG = `${GRUB_DIR}/i386-pc/core.img`;
export const BOOT_IMG = '/usr/lib/grub/i386-pc/boot.img';
/** The drop-in that the image's own update-grub reads later (kernel upgrades on the instance). */
export const GRUB_DEFAULTS = '/etc/default/grub.d/emi-recipe.cfg';

/** What grub.cfg and the defaults name. */
export interface GrubBootSpec {
  /** The kernel version, as in /boot/vmlinuz-<version> (with /boot/initrd.img-<version>). */
  readonly kernelVersion: string;
  /** The root file system's UUID. */
  readonly rootUuid: string;
  /** GRUB's name of the root partition: `msdos1`. */
  readonly partition: string;
  /** Extra kernel arguments after the consoles. */
  readonly kernelArgs: readonly string[];
}

/** The kernel command line of the image: root by UUID, read-only, the consoles, the recipe's. */
export function kernelCommandLine(spec: GrubBootSpec): string {
  return [`root=UUID=${spec.rootUuid}`, 'ro', ...HVM_CONSOLES, ...spec.kernelArgs].join(' ');
}

/** /etc/default/grub.d/emi-recipe.cfg: the same settings for the image's own update-grub. */
export function grubDefaults(spec: GrubBootSpec): string {
  return [
    '# emi-recipe (make-bootable): a cloud image boots at once, with its console on the serial port.',
    'GRUB_TIMEOUT=0',
    `GRUB_CMDLINE_LINUX="${[...HVM_CONSOLES, ...spec.kernelArgs].join(' ')}"`,
    'GRUB_TERMINAL="console serial"',
    'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"',
    '',
  ].join('\n');
}

/**
 * /boot/grub/grub.cfg: one entry, no menu wait. Written here rather than by update-grub,
 * whose grub-probe cannot map the build's loop device to a BIOS disk; update-grub on the
 * instance (kernel upgrades) rewrites it from grubDefaults' settings.
 */
export function grubConfig(spec: GrubBootSpec): string {
  return [
    '# Written by emi-recipe (make-bootable); update-grub on the instance replaces it',
    `# with the same settings (${GRUB_DEFAULTS}).`,
    'set default=0',
    'set timeout=0',
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    'insmod part_msdos',
    'insmod ext2',
    `search --no-floppy --fs-uuid --set=root ${spec.rootUuid}`,
    `menuentry 'Linux ${spec.kernelVersion}' {`,
    `\tlinux /boot/vmlinuz-${spec.kernelVersion} ${kernelCommandLine(spec)}`,
    `\tinitrd /boot/initrd.img-${spec.kernelVersion}`,
    '}',
    '',
  ].join('\n');
}

/**
 * The script run in the image (chroot): checks grub-pc is there, copies the modules
 * where GRUB looks for them, makes core.img with the image's grub-mkimage (prefix on
 * the root partition), and tells debconf that GRUB is installed on no device, so that
 * package upgrades on the instance do not stop to ask (the boot sectors are written
 * by emi-recipe). grub.cfg and the defaults are written by the step itself.
 */
export function grubInstallScript(spec: Pick<GrubBootSpec, 'partition'>): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `if [ ! -f ${BOOT_IMG} ] || ! command -v grub-mkimage >/dev/null; then`,
    '  echo "emi-recipe: the image has no GRUB for BIOS (/usr/lib/grub/i386-pc, grub-mkimage): install grub-pc" >&2',
    '  exit 3',
    'fi',
    `mkdir -p ${GRUB_DIR}/i386-pc`,
    `cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst ${GRUB_DIR}/i386-pc/`,
    `grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -o ${CORE_IMG} -p '(hd0,${spec.partition})${GRUB_DIR}' biosdisk part_msdos ext2`,
    'if command -v debconf-set-selections >/dev/null; then',
    "  echo 'grub-pc grub-pc/install_devices_empty boolean true' | debconf-set-selections",
    "  echo 'grub-pc grub-pc/install_devices multiselect' | debconf-set-selections",
    'fi',
    `echo "emi-recipe: core.img made by $(grub-mkimage --version)"`,
    '',
  ].join('\n');
}

/** Why the boot sectors cannot be written. */
export type GrubEmbedProblem =
  | { readonly reason: 'bad-boot-img'; readonly size: number }
  | { readonly reason: 'bad-core-img'; readonly detail: string }
  | { readonly reason: 'gap-too-small'; readonly coreBytes: number; readonly gapBytes: number };

// Offsets in boot.img (GRUB's include/grub/i386/pc/boot.h).
const BPB_START = 0x03;
const BPB_END = 0x5a;
const KERNEL_SECTOR = 0x5c;
const DRIVE_CHECK = 0x66;
const WINDOWS_NT_MAGIC = 0x1b8;
// The blocklist at the end of core.img's first sector (diskboot.img): start (u64), sectors (u16), segment (u16).
const BLOCKLIST = SECTOR - 12;
const BLOCKLIST_SEGMENT = 0x820;

/**
 * The disk's first `head.length` bytes (the MBR and the gap before the first partition)
 * with GRUB in them, as grub-bios-setup embeds it: boot.img's code in the MBR (the disk
 * id and partition table kept), pointing at core.img in sector 1; core.img's first
 * blocklist naming the sectors after it; the "is it a hard disk" jump replaced with
 * no-ops (BIOSes that pass a wrong boot drive). `head` is not changed.
 */
export function embedGrub(
  head: Uint8Array,
  bootImg: Uint8Array,
  coreImg: Uint8Array,
): { ok: true; value: Uint8Array } | { ok: false; error: GrubEmbedProblem } {
  if (bootImg.length !== SECTOR || bootImg[510] !== 0x55 || bootImg[511] !== 0xaa)
    return { ok: false, error: { reason: 'bad-boot-img', size: bootImg.length } };
  if (coreImg.length < 2 * SECTOR)
    return {
      ok: false,
      error: { reason: 'bad-core-img', detail: `${coreImg.length} bytes, less than 2 sectors` },
    };
  const sectors = Math.ceil(coreImg.length / SECTOR);
  const gapBytes = head.length - SECTOR;
  if (sectors * SECTOR > gapBytes)
    return { ok: false, error: { reason: 'gap-too-small', coreBytes: coreImg.length, gapBytes } };
  const core = new Uint8Array(sectors * SECTOR);
  core.set(coreImg);
  const coreView = new DataView(core.buffer);
  if (coreView.getUint16(BLOCKLIST + 10, true) !== BLOCKLIST_SEGMENT)
    return {
      ok: false,
      error: {
        reason: 'bad-core-img',
        detail: 'its first sector is not diskboot.img (no blocklist at its end)',
      },
    };
  // core.img goes at sector 1: its remaining sectors start at sector 2.
  coreView.setBigUint64(BLOCKLIST, 2n, true);
  coreView.setUint16(BLOCKLIST + 8, sectors - 1, true);
  const out = new Uint8Array(head);
  const mbr = new Uint8Array(SECTOR);
  mbr.set(bootImg.subarray(0, WINDOWS_NT_MAGIC));
  // grub-bios-setup keeps what the disk had in the BPB area (scratch space to boot.img).
  mbr.set(head.subarray(BPB_START, BPB_END), BPB_START);
  mbr.set(head.subarray(WINDOWS_NT_MAGIC, SECTOR), WINDOWS_NT_MAGIC);
  new DataView(mbr.buffer).setBigUint64(KERNEL_SECTOR, 1n, true);
  mbr[DRIVE_CHECK] = 0x90;
  mbr[DRIVE_CHECK + 1] = 0x90;
  out.set(mbr, 0);
  out.set(core, SECTOR);
  return { ok: true, value: out };
}

/** The sentence for a GrubEmbedProblem. */
export function describeGrubEmbedProblem(problem: GrubEmbedProblem): string {
  switch (problem.reason) {
    case 'bad-boot-img':
      return `the image's ${BOOT_IMG} is not a 512-byte boot sector (${problem.size} bytes)`;
    case 'bad-core-img':
      return `the core.img made by the image's grub-mkimage is not usable: ${problem.detail}`;
    case 'gap-too-small':
      return `GRUB's core.img (${problem.coreBytes} bytes) does not fit before the first partition (${problem.gapBytes} bytes free): the first partition must start at 1 MiB or later`;
  }
}
