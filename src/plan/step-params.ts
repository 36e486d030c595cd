// The params of each built-in step kind: what plan/default-graph.ts derives from the
// recipe and what the step implementations in steps/ receive. Plain JSON, no secrets,
// no absolute paths (input files are StepInputs, referred to here by their `name`).

/** create-disk: an empty disk (`qemu-img create`). Artifact `disk`. */
export interface CreateDiskParams {
  readonly sizeBytes: number;
  readonly format: 'qcow2' | 'raw';
}

/** install-os from an installer ISO. Inputs: `iso`, and `answer-file` when the recipe has one. */
export interface IsoInstallParams {
  readonly source: 'iso';
  readonly arch: 'x86_64' | 'i386';
  /** Expected SHA-256 of the ISO, when the recipe pins it. */
  readonly sha256: string | null;
  /** When the ISO is to be downloaded: its URL (then `sha256` is set). */
  readonly url: string | null;
  readonly answers: 'preseed' | 'autoinstall' | 'kickstart';
  readonly locale: string;
  readonly timezone: string;
  readonly swapBytes: number;
  readonly kernelArgs: readonly string[];
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly accel: 'auto' | 'kvm' | 'tcg';
  readonly timeoutMs: number;
  /** For generated answer files: users and packages the installer should set up. */
  readonly users: readonly {
    readonly name: string;
    readonly groups: readonly string[];
    readonly shell: string;
  }[];
  readonly packages: readonly string[];
}

/** install-os with debootstrap. No inputs. */
export interface DebootstrapInstallParams {
  readonly source: 'debootstrap';
  readonly arch: 'x86_64' | 'i386';
  readonly suite: string;
  readonly variant: 'minbase' | 'buildd' | 'default';
  readonly components: readonly string[];
  /** null: the host's apt sources, else debootstrap's default. */
  readonly mirror: string | null;
  readonly kernelPackage: string;
  readonly packages: readonly string[];
  readonly locale: string;
  readonly timezone: string;
  readonly diskSizeBytes: number;
  readonly diskFormat: 'qcow2' | 'raw';
}

export type InstallParams = IsoInstallParams | DebootstrapInstallParams;

/**
 * customize: applied on a copy-on-write overlay of install-os's disk. Files with a
 * `source` are inputs named `files[<index>]`. Order of application: packages, users,
 * files, remove, rc.local, commands.
 */
export interface CustomizeParams {
  readonly packages: readonly string[];
  readonly users: readonly {
    readonly name: string;
    readonly groups: readonly string[];
    readonly shell: string;
    readonly sudo: boolean | string;
    readonly sshAuthorizedKeys: readonly string[];
    readonly uid: number | null;
    readonly comment: string | null;
  }[];
  readonly files: readonly {
    readonly path: string;
    /** Text content, or null when the content comes from the input `files[<index>]`. */
    readonly content: string | null;
    readonly mode: number;
    readonly owner: string;
  }[];
  readonly remove: readonly string[];
  readonly rcLocal: {
    readonly metadataSshKey: {
      readonly user: string;
      readonly url: string;
      readonly timeoutMs: number;
    } | null;
    readonly modules: readonly string[];
    readonly lines: readonly string[];
  } | null;
  readonly commands: readonly string[];
}

/** extract-kernel / extract-ramdisk: artifact `kernel` or `ramdisk`, value `kernelVersion`. */
export interface ExtractBootParams {
  /** 'newest' or an exact version as in /boot/vmlinuz-<version>. */
  readonly kernel: string;
}

/** extract-rootfs: the root file system as a raw image of `sizeBytes`. Artifact `rootfs`. */
export interface ExtractRootfsParams {
  readonly sizeBytes: number;
  readonly name: string;
}
