// The params of each built-in step kind: what plan/default-graph.ts derives from the
// recipe and what the step implementations in steps/ receive, tied together by kind name
// in StepParamsByKind. Plain JSON, no secrets, no absolute paths (input files are
// StepInputs, referred to here by their `name`). Declared with `type`, not `interface`
// (here and in guest/spec.ts): only a type literal is assignable to JsonValue, which the
// graph and the fingerprint require of params.
import type { AnswerFlavour, Arch, CustomizeSpec } from '../guest/spec.js';
import type { StepKind, StepSpec } from './step.js';

/** create-disk: an empty disk (`qemu-img create`). Artifact `disk`. */
export type CreateDiskParams = {
  readonly sizeBytes: number;
  readonly format: 'qcow2' | 'raw';
};

/**
 * install-os from an installer ISO. Inputs: `iso`, and `answer-file` when the recipe has one.
 * Holds nothing from `customize`: the recipe's users and packages are applied by the
 * customize step for every install source, so changing them never re-runs the install.
 */
export type IsoInstallParams = {
  readonly source: 'iso';
  readonly arch: Arch;
  /** Expected SHA-256 of the ISO, when the recipe pins it. */
  readonly sha256: string | null;
  /** When the ISO is to be downloaded: its URL (then `sha256` is set). */
  readonly url: string | null;
  readonly answers: AnswerFlavour;
  readonly locale: string;
  readonly timezone: string;
  readonly swapBytes: number;
  readonly kernelArgs: readonly string[];
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly accel: 'auto' | 'kvm' | 'tcg';
  readonly timeoutMs: number;
};

/** install-os with debootstrap. No inputs. */
export type DebootstrapInstallParams = {
  readonly source: 'debootstrap';
  readonly arch: Arch;
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
};

export type InstallParams = IsoInstallParams | DebootstrapInstallParams;

/**
 * customize: applied on a copy-on-write overlay of install-os's disk. Files with a
 * `source` are inputs named `files[<index>]`. Order of application: packages, users,
 * files, remove, rc.local, commands.
 */
export type CustomizeParams = CustomizeSpec;

/** extract-kernel / extract-ramdisk: artifact `kernel` or `ramdisk`, value `kernelVersion`. */
export type ExtractBootParams = {
  /** 'newest' or an exact version as in /boot/vmlinuz-<version>. */
  readonly kernel: string;
};

/** extract-rootfs: the root file system as a raw image of `sizeBytes`. Artifact `rootfs`. */
export type ExtractRootfsParams = {
  readonly sizeBytes: number;
  readonly name: string;
};

/**
 * make-bootable (hvm): GRUB for BIOS from the image's own grub-pc on an overlay of
 * customize's disk: core.img embedded after the MBR, boot.img in it, a grub.cfg booting
 * `kernel` with the console on tty0 and ttyS0. Artifact `disk`; values `kernelVersion`,
 * `rootUuid`, `partition`.
 */
export type MakeBootableParams = {
  readonly bootLoader: 'grub-pc';
  /** 'newest' or an exact version as in /boot/vmlinuz-<version> (the recipe's extract.kernel). */
  readonly kernel: string;
};

/** extract-disk (hvm): the whole disk (partition table, boot loader, root) as one raw image. Artifact `image`. */
export type ExtractDiskParams = {
  readonly name: string;
};

/** Where bundles go and who holds the keys; `local` means the embedded cloud provides keys at run time. */
export type PublishTargetParams = {
  readonly cloud: 'local' | 'eucalyptus' | 'aws';
  /** Display only: the endpoint URLs (null for local or the AWS default). */
  readonly ec2Endpoint: string | null;
  readonly s3Endpoint: string | null;
  readonly region: string;
  /** The access key id (not secret); null when it comes from the AWS chain or the local cloud. */
  readonly accessKeyId: string | null;
};

/**
 * bundle-image (kernel, ramdisk: parts and manifest in one) and bundle-parts (machine:
 * parts only, the manifest waits for the kernel and ramdisk ids). Inputs for a real
 * cloud: `cert`, `private-key` (secret), `cloud-cert`. Needs the extract step whose
 * artifact is bundled.
 */
export type BundleParams = {
  readonly imageType: 'kernel' | 'ramdisk' | 'machine';
  readonly arch: Arch;
  /** The bundle prefix: file names and the image name in the manifest. */
  readonly prefix: string;
  readonly partSizeBytes: number;
  /**
   * hvm machine bundles only (parts and manifest in one bundle-image step): the
   * manifest's block device mapping. Absent for kernels, ramdisks and paravirtual parts.
   */
  readonly blockDeviceMapping?: readonly { readonly virtual: string; readonly device: string }[];
  /** null: the local cloud's account. */
  readonly account: string | null;
  readonly target: PublishTargetParams;
};

/** bundle-manifest: the machine manifest, naming the registered kernel and ramdisk ids. */
export type BundleManifestParams = {
  readonly arch: Arch;
  readonly blockDeviceMapping: readonly { readonly virtual: string; readonly device: string }[];
  readonly target: PublishTargetParams;
};

/** upload-bundle: parts then manifest to bucket/prefix. Secrets: `secret-key` for real clouds. */
export type UploadParams = {
  readonly bucket: string;
  readonly prefix: string;
  readonly acl: 'aws-exec-read' | 'public-read' | 'ec2-bundle-read';
  readonly target: PublishTargetParams;
};

/** register-image: RegisterImage of the uploaded manifest; value `imageId`. */
export type RegisterParams = {
  readonly imageType: 'kernel' | 'ramdisk' | 'machine';
  readonly name: string;
  readonly description: string | null;
  readonly arch: Arch;
  readonly public: boolean;
  /** hvm machine images only: RegisterImage's VirtualizationType (absent: the cloud's default, paravirtual). */
  readonly virtualization?: 'hvm';
  /** hvm only: RegisterImage's RootDeviceName, the root device the manifest implies. */
  readonly rootDeviceName?: string;
  readonly target: PublishTargetParams;
};

/**
 * boot-test: boots the extracted kernel, ramdisk and root file system with a metadata
 * service, or (`firmware: 'bios'`, hvm) the whole disk image through SeaBIOS.
 */
export type BootTestParams = {
  /** hvm only: boot extract-disk's image through the firmware, no -kernel. */
  readonly firmware?: 'bios';
  readonly user: string;
  readonly commands: readonly string[];
  readonly timeoutMs: number;
  readonly memoryBytes: number;
  readonly cpus: number;
  readonly accel: 'auto' | 'kvm' | 'tcg';
};

/**
 * Each built-in step kind's params, by kind name: the one place that says which params
 * a kind takes. The graph builder's steps (BuiltinStepSpec) and the registry's table
 * (BuiltinKinds) both come from it, so they cannot disagree.
 */
export type StepParamsByKind = {
  'create-disk': CreateDiskParams;
  'install-os': InstallParams;
  customize: CustomizeParams;
  'extract-kernel': ExtractBootParams;
  'extract-ramdisk': ExtractBootParams;
  'extract-rootfs': ExtractRootfsParams;
  'make-bootable': MakeBootableParams;
  'extract-disk': ExtractDiskParams;
  'bundle-image': BundleParams;
  'bundle-parts': BundleParams;
  'bundle-manifest': BundleManifestParams;
  'upload-bundle': UploadParams;
  'register-image': RegisterParams;
  'boot-test': BootTestParams;
};

/** The name of a built-in step kind. */
export type BuiltinKind = keyof StepParamsByKind;

/** A step of a built-in kind K (any of them when K is a union), its params typed by K. */
export type BuiltinStepSpec<K extends BuiltinKind = BuiltinKind> = {
  [Name in K]: StepSpec<StepParamsByKind[Name], Name>;
}[K];

/** The built-in step kind named K. */
export type BuiltinStepKind<K extends BuiltinKind> = StepKind<StepParamsByKind[K], K>;

/** A table of every built-in kind by name (steps/registry.ts): a missing kind does not compile. */
export type BuiltinKinds = { readonly [K in BuiltinKind]: BuiltinStepKind<K> };
