// The boot test's VM: QEMU's argv for a direct kernel boot of the extracted kernel, initrd
// and root file system (or, for hvm images, the whole disk booted by SeaBIOS), the guest's link-local network with the metadata address forwarded
// to the host, the vCPU choice under TCG, and the SSH poll pacing. No step knowledge.
import { createServer } from 'node:net';
import { sleep } from '../core/sleep.js';
import { vmArgs, type Accel } from '../tools/qemu.js';

/** The guest's network: a link-local net that contains the metadata address (QEMU refuses a guestfwd outside it). */
export const GUEST_NET = {
  net: '169.254.0.0/16',
  host: '169.254.0.2',
  dhcpStart: '169.254.0.15',
  metadata: '169.254.169.254',
} as const;

/** QEMU's -netdev for the test: user networking, metadata forwarded to `metadataPort`, SSH from `sshPort`. */
export function testNetdev(metadataPort: number, sshPort: number): string {
  return [
    'user',
    'id=net0',
    `net=${GUEST_NET.net}`,
    `host=${GUEST_NET.host}`,
    `dhcpstart=${GUEST_NET.dhcpStart}`,
    `guestfwd=tcp:${GUEST_NET.metadata}:80-tcp:127.0.0.1:${metadataPort}`,
    `hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
  ].join(',');
}

/** The kernel command line a node would pass, with the console on the serial port. */
export const BOOT_APPEND = 'root=/dev/vda console=ttyS0';

/**
 * What only the test's kernel command line adds: no CPU-vulnerability mitigations (a
 * throw-away guest running nothing untrusted; page-table isolation and friends are
 * costly to emulate). The image is unchanged: a node passes its own command line.
 */
export const TEST_APPEND_EXTRA = 'mitigations=off';

/**
 * The test's CPU under TCG: x86-64-v2 (what RHEL 9 and others require) and no more.
 * `max` also offers AVX, 5-level paging and the like, which the guest then uses and
 * TCG emulates slowly; under KVM the host CPU as usual.
 */
export const TEST_TCG_CPU = 'qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16';

/**
 * What the guest boots: the extracted kernel, initrd and root file system (paravirtual,
 * as a node boots them), or the whole disk image through SeaBIOS (hvm: its own GRUB and
 * kernel command line, nothing from the test).
 */
export type BootTestMedia =
  | { readonly kernel: string; readonly initrd: string; readonly rootfs: string }
  | { readonly disk: string };

/** What the test's VM is: the boot files, its size, and the host ports it talks to. */
export type BootTestVm = BootTestMedia & {
  readonly accel: Accel;
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly metadataPort: number;
  readonly sshPort: number;
};

/** QEMU's argv for the test's guest (without the QMP monitor): the disk a throw-away snapshot. */
export function bootTestVmArgs(o: BootTestVm): string[] {
  const image = 'disk' in o ? o.disk : o.rootfs;
  return vmArgs({
    ...('disk' in o
      ? { firmware: 'bios' as const }
      : { kernel: o.kernel, initrd: o.initrd, append: `${BOOT_APPEND} ${TEST_APPEND_EXTRA}` }),
    accel: o.accel,
    memoryBytes: o.memoryBytes,
    cpus: o.cpus,
    ...(o.accel === 'tcg' ? { cpu: TEST_TCG_CPU } : {}),
    drives: [],
    network: false,
    extra: [
      '-drive',
      `file=${image.replace(/,/g, ',,')},format=raw,if=virtio,snapshot=on`,
      // Entropy from the host: sshd and curl never wait for the guest's pool.
      '-device',
      'virtio-rng-pci',
      '-netdev',
      testNetdev(o.metadataPort, o.sshPort),
      '-device',
      'virtio-net-pci,netdev=net0',
    ],
  });
}

/**
 * The test VM's vCPUs: `test.cpus`, raised under TCG to the host cores that are idle
 * (cores less the 1-minute load, rounded; at most 4). A first boot runs host-key generation and
 * other units side by side; multi-threaded TCG gives each a host thread when one is free,
 * and on a busy host an extra vCPU would only compete with the first.
 */
export function testCpus(requested: number, accel: Accel, cores: number, load1: number): number {
  if (accel !== 'tcg') return requested;
  const idle = Math.round(cores - load1);
  return Math.max(requested, Math.min(4, idle));
}

/** Login attempts: every POLL_MS, and right away, then every HINTED_POLL_MS, once the key is in. */
export const POLL_MS = 2000;
export const HINTED_POLL_MS = 500;
/** rc.local's console line once the metadata key is in authorized_keys. */
export const KEY_INSTALLED_LINE =
  /emi-recipe: (installed SSH key|SSH key for \S+ already installed)/;

/** Sleeps `ms`, or less when `signal` aborts or `hint.wake()` is called meanwhile. */
export function waitOrWake(
  ms: number,
  signal: AbortSignal,
  hint: { wake: () => void },
): Promise<void> {
  const early = new AbortController();
  const stop = (): void => {
    early.abort();
  };
  signal.addEventListener('abort', stop, { once: true });
  hint.wake = stop;
  return sleep(ms, early.signal).finally(() => {
    signal.removeEventListener('abort', stop);
    hint.wake = () => {};
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}
