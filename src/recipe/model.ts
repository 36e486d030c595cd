// The validated recipe: defaults applied, sizes in bytes, durations in ms, host paths
// absolute. Types only (plus the defaults they imply); built by normalize.ts. The
// customisation reuses the guest generators' shapes (guest/spec.ts): one definition.
import type { AnswerFlavour, Arch, CustomizeSpec, GuestFile } from '../guest/spec.js';
import type { LocatedStepReference, SourceMap } from './source-map.js';

export type Architecture = Arch;
export type { AnswerFlavour };

export const CLOUD_KINDS = ['local', 'eucalyptus', 'aws'] as const;
export type CloudKind = (typeof CLOUD_KINDS)[number];

export type Accel = 'auto' | 'kvm' | 'tcg';
export type DiskFormat = 'qcow2' | 'raw';
export type CannedAcl = 'aws-exec-read' | 'public-read' | 'ec2-bundle-read';

/** The default `customize.remove`: udev would pin the build VM's MAC address to eth0. */
export const DEFAULT_REMOVE = ['/etc/udev/rules.d/70-persistent-net.rules'] as const;

/** Where instances find their SSH key (the EC2 metadata service). */
export const DEFAULT_METADATA_KEY_URL =
  'http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key';

/** debootstrap extras when the recipe names none: enough to boot, get DHCP and log in. */
export const DEFAULT_DEBOOTSTRAP_PACKAGES = [
  'systemd-sysv',
  'openssh-server',
  'curl',
  'ca-certificates',
  'ifupdown',
  'isc-dhcp-client',
] as const;

/** The kernel package debootstrap installs by default, per architecture. */
export const DEFAULT_KERNEL_PACKAGE: Record<Architecture, string> = {
  x86_64: 'linux-image-cloud-amd64',
  i386: 'linux-image-686-pae',
};

/** A local file the recipe reads, with the place that names it. */
export interface HostFile {
  /** Absolute path. */
  readonly path: string;
  /** As written in the recipe. */
  readonly written: string;
}

export interface VmSettings {
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly accel: Accel;
  readonly timeoutMs: number;
}

export interface IsoInstall {
  readonly kind: 'iso';
  readonly iso: { readonly path?: HostFile; readonly url?: string; readonly sha256?: string };
  readonly answers: AnswerFlavour;
  readonly answerFile?: HostFile;
  readonly locale: string;
  readonly timezone: string;
  readonly swapBytes: number;
  readonly kernelArgs: readonly string[];
  readonly vm: VmSettings;
}

export interface DebootstrapInstall {
  readonly kind: 'debootstrap';
  readonly suite: string;
  readonly variant: 'minbase' | 'buildd' | 'default';
  readonly components: readonly string[];
  /** Undefined: read from the host's apt sources at run time, else debootstrap's default. */
  readonly mirror?: string;
  readonly kernelPackage: string;
  readonly packages: readonly string[];
  readonly locale: string;
  readonly timezone: string;
}

export type InstallSpec = IsoInstall | DebootstrapInstall;

/**
 * A file the customize step writes: a guest file (guest/spec.ts) whose content is either
 * `content` or, when that is null, the bytes of the host file `source`.
 */
export interface RecipeFile extends GuestFile {
  /** The host file to copy, when `content` is null; else null. */
  readonly source: HostFile | null;
}

/**
 * The customisation: the shape the guest generators take (guest/spec.ts), except that a
 * file may come from the host. plan/default-graph.ts turns those into step inputs.
 */
export interface RecipeCustomize extends Omit<CustomizeSpec, 'files'> {
  readonly files: readonly RecipeFile[];
}

/**
 * `paravirtual`: a kernel, a ramdisk and the root file system, the machine image naming
 * both. `hvm`: the whole bootable disk (partition table, GRUB, root file system) as one
 * machine image with no kernel or ramdisk (what AWS and non-admin Eucalyptus accounts use).
 */
export type Virtualization = 'paravirtual' | 'hvm';

export interface ImageSpec {
  readonly virtualization: Virtualization;
}

export interface ExtractSpec {
  /** 'newest' or an exact version as in /boot/vmlinuz-<version>. */
  readonly kernel: string;
  readonly rootfsSizeBytes: number;
}

/**
 * Bundling settings. Any of account/cert/privateKey/cloudCert may be undefined only
 * for `publish.cloud: local`, whose embedded cloud provides them.
 */
export interface BundleSpec {
  readonly account?: string;
  readonly cert?: HostFile;
  readonly privateKey?: HostFile;
  readonly cloudCert?: HostFile;
  readonly partSizeBytes: number;
  readonly blockDeviceMapping: Readonly<Record<string, string>>;
}

export interface PublishSpec {
  readonly cloud: CloudKind;
  readonly endpoints: { readonly ec2?: string; readonly s3?: string };
  readonly region: string;
  /** Never logged, planned or stored; fingerprints see only the access key id. */
  readonly credentials?: { readonly accessKey: string; readonly secretKey: string };
  readonly bucket: string;
  readonly prefix: string;
  readonly names: { readonly kernel: string; readonly ramdisk: string; readonly machine: string };
  readonly description?: string;
  readonly public: boolean;
  readonly acl: CannedAcl;
}

export interface TestSpec {
  readonly boot: boolean;
  /** Undefined only when `boot` is false and no metadata-key user exists. */
  readonly user?: string;
  readonly commands: readonly string[];
  readonly timeoutMs: number;
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly accel: Accel;
}

/** Where the state and lock live: the work directory (no `url`) or an S3 store. */
export interface StoreSpec {
  /** `s3://bucket/prefix` (checked by the rules); undefined: the work directory. */
  readonly url?: string;
  /** The lease of apply's lock in an S3 store. */
  readonly leaseMs: number;
}

/** A recipe that passed the schema and the cross-field rules. Read-only throughout. */
export interface Recipe {
  /** Absolute path of the recipe file. */
  readonly path: string;
  /** The recipe's folder: relative paths in it resolve from here. */
  readonly dir: string;
  readonly name: string;
  readonly description?: string;
  readonly arch: Architecture;
  readonly disk: { readonly sizeBytes: number; readonly format: DiskFormat };
  readonly install: InstallSpec;
  readonly customize: RecipeCustomize;
  readonly image: ImageSpec;
  readonly extract: ExtractSpec;
  readonly bundle: BundleSpec;
  readonly publish: PublishSpec;
  readonly test: TestSpec;
  readonly store: StoreSpec;
  readonly stepRefs: readonly LocatedStepReference[];
  /** Places of recipe values, for diagnostics raised later (plan, run). */
  readonly sourceMap: SourceMap;
}
