// qemu-system-x86_64: the argv of an installer or test VM (direct kernel boot, or the
// firmware booting the disk; serial console, no display). Which accelerator to use is decided in tools/qemu-accel.ts.

export const QEMU_SYSTEM = 'qemu-system-x86_64';

export type Accel = 'kvm' | 'tcg';

/** A disk or CD given to a VM. */
export interface VmDrive {
  readonly path: string;
  readonly format: 'qcow2' | 'raw';
  readonly media: 'disk' | 'cdrom';
}

/** A direct kernel boot (-kernel, -initrd, -append). */
export interface DirectBoot {
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
}

/** The firmware (SeaBIOS) boots the first disk: an hvm image's own boot loader. */
export interface FirmwareBoot {
  readonly firmware: 'bios';
}

export type VmOptions = (DirectBoot | FirmwareBoot) & VmCommon;

interface VmCommon {
  readonly accel: Accel;
  readonly memoryBytes: number;
  readonly cpus: number;
  /** The first disk is the guest's /dev/vda; CDs follow on IDE. */
  readonly drives: readonly VmDrive[];
  /** User-mode networking with a virtio NIC (installers fetch from mirrors). */
  readonly network: boolean;
  /** The -cpu model; by default `host` under KVM, `max` under TCG. */
  readonly cpu?: string;
  /** Extra arguments (the QMP monitor). */
  readonly extra?: readonly string[];
}

/**
 * A headless VM booting `kernel`/`initrd` directly (or its first disk through SeaBIOS): serial console on stdout, no
 * display, no defaults, and -no-reboot so that a guest reboot ends QEMU instead of
 * starting the installer again. `-cpu max` under TCG gives guests the x86-64-v2+
 * features some distributions require; `-cpu host` under KVM.
 */
export function vmArgs(o: VmOptions): string[] {
  const args = [
    '-name',
    'emi-recipe',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-accel',
    o.accel,
    '-cpu',
    o.cpu ?? (o.accel === 'kvm' ? 'host' : 'max'),
    '-m',
    `${Math.max(64, Math.floor(o.memoryBytes / 2 ** 20))}M`,
    '-smp',
    String(o.cpus),
    '-serial',
    'stdio',
    '-no-reboot',
    ...('kernel' in o ? ['-kernel', o.kernel, '-initrd', o.initrd, '-append', o.append] : []),
  ];
  let cd = 0;
  for (const d of o.drives) {
    const file = d.path.replace(/,/g, ',,');
    if (d.media === 'disk') {
      args.push('-drive', `file=${file},format=${d.format},if=virtio,cache=unsafe`);
    } else {
      args.push('-drive', `file=${file},format=raw,media=cdrom,readonly=on,if=ide,index=${cd + 2}`);
      cd += 1;
    }
  }
  if (o.network) args.push('-netdev', 'user,id=net0', '-device', 'virtio-net-pci,netdev=net0');
  return [...args, ...(o.extra ?? [])];
}

/** Environment for libguestfs: its own QEMU must also avoid a KVM that does not work. */
export function guestfsEnv(accel: Accel): Record<string, string> {
  return accel === 'kvm'
    ? { LIBGUESTFS_BACKEND: 'direct' }
    : { LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' };
}
