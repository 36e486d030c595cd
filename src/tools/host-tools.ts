// The external programs emi-recipe runs, the Debian/Ubuntu package that provides each,
// and how to ask each for its version. Data plus a PATH lookup; used by `doctor`
// and by error messages. Keep in step with scripts/install-host-tools.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface HostTool {
  readonly program: string;
  /** The Debian/Ubuntu package to install. */
  readonly package: string;
  /** What needs it, for people. */
  readonly usedFor: string;
  /** Missing means `doctor` fails (exit 1). */
  readonly required: boolean;
  readonly versionArgs: readonly string[];
}

export const HOST_TOOLS: readonly HostTool[] = [
  {
    program: 'qemu-img',
    package: 'qemu-utils',
    usedFor: 'disks, overlays, partition copies',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'qemu-system-x86_64',
    package: 'qemu-system-x86',
    usedFor: 'ISO installs, KVM probe, boot test',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'debootstrap',
    package: 'debootstrap',
    usedFor: 'install.debootstrap',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'mke2fs',
    package: 'e2fsprogs',
    usedFor: 'root file systems from debootstrap trees',
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'e2fsck',
    package: 'e2fsprogs',
    usedFor: 'checking extracted file systems',
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'resize2fs',
    package: 'e2fsprogs',
    usedFor: 'extract.rootfsSize',
    required: true,
    versionArgs: [],
  },
  {
    program: 'debugfs',
    package: 'e2fsprogs',
    usedFor: 'reading kernels out of images without mounting',
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'dumpe2fs',
    package: 'e2fsprogs',
    usedFor: 'file-system sizes',
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'xorriso',
    package: 'xorriso',
    usedFor: 'installer kernels out of ISOs, NoCloud seeds',
    required: true,
    versionArgs: ['-version'],
  },
  {
    program: 'virt-customize',
    package: 'libguestfs-tools',
    usedFor: 'customize without root',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'mount',
    package: 'mount',
    usedFor: 'customize as root (loop mount)',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'chroot',
    package: 'coreutils',
    usedFor: 'customize as root',
    required: true,
    versionArgs: ['--version'],
  },
  {
    program: 'vmdb2',
    package: 'vmdb2',
    usedFor: 'npm run bench:build (reference build)',
    required: false,
    versionArgs: ['--version'],
  },
  {
    program: 'ssh',
    package: 'openssh-client',
    usedFor: 'boot test (log in with the metadata key)',
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'ssh-keygen',
    package: 'openssh-client',
    usedFor: "boot test (the test's key pair)",
    required: true,
    versionArgs: ['-V'],
  },
  {
    program: 'openssl',
    package: 'openssl',
    usedFor: "the local cloud's keys and certificates",
    required: true,
    versionArgs: ['version'],
  },
  {
    program: 'perl',
    package: 'perl-base',
    usedFor: 'finding holes in sparse images while bundling (else every byte is read)',
    required: false,
    versionArgs: ['-e', 'print "perl $^V\\n"'],
  },
  {
    program: 'igzip',
    package: 'isal',
    usedFor: "compressing the step cache's uploads in a fifth of the CPU time (else zlib)",
    required: false,
    versionArgs: ['--version'],
  },
];

/** Directories searched besides $PATH: sbin is often missing from a user's PATH but holds e2fsprogs. */
export const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of an executable `program` on `pathVar` (plus EXTRA_DIRS), or null. */
export async function findProgram(
  program: string,
  pathVar: string | undefined,
): Promise<string | null> {
  const dirs = [...(pathVar ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, program);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

/** The first line that names a version, from a tool's --version output (stdout or stderr). */
export function parseVersionLine(text: string): string | null {
  const line = text.split('\n').find((l) => /\d+\.\d+/.test(l));
  return line?.trim() ?? null;
}
