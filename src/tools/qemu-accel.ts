// The KVM decision for qemu-system-x86_64: a short probe that boots tiny guests under
// KVM to a marker (a device node alone proves nothing: on some hosts a boot sector passes
// and real kernels hang), recorded per host kernel and QEMU version so that `plan` and
// `doctor` can show it without starting a VM. TCG is the fallback.
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { cacheDir } from '../core/cache-dir.js';
import type { TaskContext } from '../core/task.js';
import type { Exec } from './exec.js';
import { QEMU_SYSTEM, type Accel } from './qemu.js';

/** What the probe found; `detail` says why in a phrase for the plan and the log. */
export interface AccelProbe {
  readonly accel: Accel;
  readonly detail: string;
  /** Host kernel release and QEMU version the result holds for. */
  readonly key: string;
  readonly checkedAt: string;
}

/** Marker the probe boot sector prints on COM1 before leaving through isa-debug-exit. */
export const PROBE_MARKER = 'EMI-RECIPE-PROBE-OK';

/**
 * A 512-byte real-mode boot sector: prints PROBE_MARKER on COM1 (out to 0x3f8), then
 * writes 0x10 to the isa-debug-exit port 0xf4 so that QEMU exits with status 33.
 * Hand-assembled (see the listing in the comments) so that no assembler is needed.
 */
export function probeBootSector(): Uint8Array {
  const code = [
    0xfa, //             cli
    0x31,
    0xc0, //       xor ax, ax
    0x8e,
    0xd8, //       mov ds, ax
    0xbe,
    0x1c,
    0x7c, // mov si, 0x7c1c (the message, 28 bytes in)
    0xba,
    0xf8,
    0x03, // mov dx, 0x3f8
    0xac, //             next: lodsb
    0x84,
    0xc0, //       test al, al
    0x74,
    0x03, //       jz done
    0xee, //             out dx, al
    0xeb,
    0xf8, //       jmp next
    0xba,
    0xf4,
    0x00, // done: mov dx, 0xf4
    0xb0,
    0x10, //       mov al, 0x10
    0xee, //             out dx, al
    0xf4, //             halt: hlt
    0xeb,
    0xfd, //       jmp halt
  ];
  const sector = new Uint8Array(512);
  sector.set(code, 0);
  sector.set(new TextEncoder().encode(`${PROBE_MARKER}\r\n\0`), code.length);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** QEMU exits with (value << 1) | 1 after a write to isa-debug-exit: 0x10 gives 33. */
export const PROBE_EXIT_CODE = 33;

export function bootSectorProbeArgs(accel: Accel, image: string): string[] {
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-accel',
    accel,
    '-m',
    '16',
    '-serial',
    'stdio',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-drive',
    `file=${image.replace(/,/g, ',,')},format=raw,if=floppy`,
  ];
}

/**
 * Boots a Linux kernel with a root device that does not exist: a kernel that gets as
 * far as "Kernel panic … unable to mount root" has set up CPUs, timers, interrupts and
 * memory under this accelerator (a boot sector alone passes where real kernels hang).
 * panic=-1 reboots at once and -no-reboot turns that into QEMU's exit.
 */
export function kernelProbeArgs(accel: Accel, kernel: string): string[] {
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-accel',
    accel,
    '-m',
    '256',
    '-serial',
    'stdio',
    '-no-reboot',
    '-kernel',
    kernel,
    '-append',
    'console=ttyS0 panic=-1 root=/dev/emi-recipe-probe-none',
  ];
}

/** True when a kernel probe's console shows the kernel reached the root mount. */
export function kernelProbeReached(output: string): boolean {
  return /Kernel panic - not syncing|VFS: Unable to mount root/.test(output);
}

export const PROBE_CACHE_FILE = 'kvm-probe.json';

/** First line of `qemu-system-x86_64 --version`: "QEMU emulator version 7.2.22 (…)" -> "7.2.22". */
export function parseQemuVersion(stdout: string): string | null {
  return /version\s+(\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1] ?? null;
}

async function qemuVersion(exec: Exec, signal: AbortSignal): Promise<string | null> {
  const r = await exec(QEMU_SYSTEM, ['--version'], { signal, timeoutMs: 10_000 });
  return r.ok ? parseQemuVersion(r.value.stdout) : null;
}

/** The cache key: results hold for one host kernel and one QEMU version. */
export function probeKey(kernelRelease: string, qemu: string): string {
  return `linux-${kernelRelease}/qemu-${qemu}`;
}

async function readCache(file: string): Promise<Record<string, AccelProbe>> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as {
      version?: number;
      results?: Record<string, AccelProbe>;
    };
    return data.version === 1 && data.results ? data.results : {};
  } catch {
    return {};
  }
}

/**
 * The recorded probe result for this host, without starting a VM (for `plan` and
 * `doctor`); null before the first probe. Runs `qemu-system-x86_64 --version` only.
 */
export async function cachedProbe(
  exec: Exec,
  signal: AbortSignal,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<AccelProbe | null> {
  const version = await qemuVersion(exec, signal);
  if (version === null) return null;
  const results = await readCache(join(cacheDir(env), PROBE_CACHE_FILE));
  return results[probeKey(release(), version)] ?? null;
}

/** A kernel the probe can boot: the newest readable /boot/vmlinuz-*, or null. */
async function hostKernel(): Promise<string | null> {
  const names = await readdir('/boot').catch(() => [] as string[]);
  const kernels = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .sort()
    .reverse();
  for (const name of kernels) {
    const path = join('/boot', name);
    if (
      await access(path, constants.R_OK).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return null;
}

/**
 * Decides KVM or TCG by booting tiny guests under KVM with short timeouts, and records
 * the result (see cachedProbe). `force` probes again even when a result is recorded.
 * Never fails: anything that goes wrong means TCG, with the reason in `detail`.
 */
export async function probeAccel(
  exec: Exec,
  ctx: TaskContext,
  options: {
    readonly force?: boolean;
    readonly env?: Readonly<Record<string, string | undefined>>;
  } = {},
): Promise<AccelProbe> {
  const env = options.env ?? process.env;
  const version = (await qemuVersion(exec, ctx.signal)) ?? 'unknown';
  const key = probeKey(release(), version);
  const file = join(cacheDir(env), PROBE_CACHE_FILE);
  const results = await readCache(file);
  const known = results[key];
  if (known && options.force !== true) {
    ctx.log(`accelerator: ${known.accel} (${known.detail}; recorded ${known.checkedAt})`);
    return known;
  }
  const result = await runProbe(exec, ctx, version);
  const probe: AccelProbe = { ...result, key, checkedAt: new Date().toISOString() };
  ctx.log(`accelerator: ${probe.accel} (${probe.detail})`);
  if (version !== 'unknown') {
    try {
      await mkdir(cacheDir(env), { recursive: true });
      await writeFileAtomic(
        file,
        `${JSON.stringify({ version: 1, results: { ...results, [key]: probe } }, null, 2)}\n`,
      );
    } catch {
      // The cache only saves time; an unwritable cache directory means probing again next time.
    }
  }
  return probe;
}

async function runProbe(
  exec: Exec,
  ctx: TaskContext,
  version: string,
): Promise<{ accel: Accel; detail: string }> {
  if (version === 'unknown') return { accel: 'tcg', detail: `${QEMU_SYSTEM} not found` };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      accel: 'tcg',
      detail: code === 'ENOENT' ? 'no /dev/kvm' : `/dev/kvm not usable (${code ?? 'error'})`,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'emi-kvm-probe-'));
  try {
    const image = join(dir, 'probe.img');
    await writeFile(image, probeBootSector());
    const sector = await exec(QEMU_SYSTEM, bootSectorProbeArgs('kvm', image), {
      signal: ctx.signal,
      timeoutMs: 10_000,
      killGraceMs: 1000,
    });
    const sectorOutput = sector.ok ? sector.value.stdout : sector.error.stdoutTail.join('\n');
    const exitCode = sector.ok
      ? 0
      : sector.error.reason === 'exit-non-zero'
        ? sector.error.exitCode
        : null;
    if (exitCode !== PROBE_EXIT_CODE || !sectorOutput.includes(PROBE_MARKER)) {
      const why =
        !sector.ok && sector.error.reason === 'timeout'
          ? 'timed out'
          : `failed: ${[...(sector.ok ? [] : sector.error.stderrTail)].slice(-1).join('') || 'no marker'}`;
      return { accel: 'tcg', detail: `KVM probe (boot sector) ${why}` };
    }
    const kernel = await hostKernel();
    if (kernel === null)
      return { accel: 'kvm', detail: 'KVM probe passed (boot sector; no host kernel to boot)' };
    const boot = await exec(QEMU_SYSTEM, kernelProbeArgs('kvm', kernel), {
      signal: ctx.signal,
      timeoutMs: 20_000,
      killGraceMs: 1000,
    });
    const output = boot.ok ? boot.value.stdout : boot.error.stdoutTail.join('\n');
    if (boot.ok && kernelProbeReached(output))
      return { accel: 'kvm', detail: `KVM probe passed (boot sector and ${kernel})` };
    const why =
      !boot.ok && boot.error.reason === 'timeout'
        ? 'hung'
        : `failed: ${boot.ok ? 'no panic marker' : boot.error.stderrTail.slice(-1).join('')}`;
    return { accel: 'tcg', detail: `KVM probe: booting ${kernel} under KVM ${why}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
