// Versions of external programs, for fingerprints (a new qemu-img may write different
// bytes) and for `doctor`. Resolving the binary is a stat; reading the version runs it.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Exec } from './exec.js';

/** The Debian/Ubuntu package providing each tool emi-recipe may run. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'qemu-img': 'qemu-utils',
  'qemu-system-x86_64': 'qemu-system-x86',
  debootstrap: 'debootstrap',
  mmdebstrap: 'mmdebstrap',
  'virt-customize': 'libguestfs-tools',
  'virt-get-kernel': 'libguestfs-tools',
  guestfish: 'libguestfs-tools',
  mke2fs: 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  tune2fs: 'e2fsprogs',
  xorriso: 'xorriso',
  cpio: 'cpio',
  sfdisk: 'fdisk',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  openssl: 'openssl',
  busybox: 'busybox-static',
  pigz: 'pigz',
  chroot: 'coreutils',
};

/** Arguments that make each tool print its version (default `--version`). */
const VERSION_ARGS: Readonly<Record<string, readonly string[]>> = {
  mke2fs: ['-V'],
  e2fsck: ['-V'],
  debugfs: ['-V'],
  tune2fs: ['-V'],
  resize2fs: [],
  xorriso: ['-version'],
  ssh: ['-V'],
  openssl: ['version'],
  busybox: [],
  chroot: ['--version'],
};

/** Absolute path of `name` on PATH (executable), or undefined. */
export async function findOnPath(
  name: string,
  path = process.env.PATH ?? '',
): Promise<string | undefined> {
  const dirs = [...path.split(delimiter), '/usr/sbin', '/sbin'].filter((d) => d !== '');
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The first line the tool prints about itself (version commands print to stdout or stderr). */
export function parseVersionOutput(stdout: string, stderr: string): string | undefined {
  const line = `${stdout}\n${stderr}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /\d+\.\d+/.test(l));
  return line?.slice(0, 200);
}

/**
 * Runs the tool's version command. Some tools (resize2fs, busybox) print their version
 * only in a usage message with a non-zero exit: the text counts, not the exit code.
 */
export async function readToolVersion(
  name: string,
  binary: string,
  exec: Exec,
  signal: AbortSignal,
): Promise<string | undefined> {
  const result = await exec(binary, [...(VERSION_ARGS[name] ?? ['--version'])], {
    signal,
    timeoutMs: 15_000,
  });
  if (result.ok) return parseVersionOutput(result.value.stdout, result.value.stderr) ?? 'unknown';
  const failure = result.error;
  if (failure.reason === 'exit-non-zero') {
    return (
      parseVersionOutput(failure.stdoutTail.join('\n'), failure.stderrTail.join('\n')) ?? 'unknown'
    );
  }
  return undefined;
}
