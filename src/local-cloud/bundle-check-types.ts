// The shapes of a RegisterImage check: the request, what the checks may look up, what an
// accepted bundle becomes, and the EC2 error a refusal is. Types only (bundle-checks.ts).
import type { ImageType } from '../bundle/manifest.js';
import type { ImageRecord } from './image-store.js';

/** An EC2 error as the Query API returns it. */
export interface Ec2Error {
  readonly code: string;
  readonly message: string;
  /** HTTP status; 400 unless said otherwise. */
  readonly status?: number;
}

export interface RegisterRequest {
  readonly imageLocation: string;
  readonly name: string;
  readonly description?: string;
  readonly architecture?: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  readonly virtualizationType?: string;
}

export interface CheckContext {
  readonly accountId: string;
  /** Whether the caller may register kernels and ramdisks (Eucalyptus: cloud admins only). */
  readonly isAdmin: boolean;
  /** Certificates whose keys may sign the account's manifests. */
  readonly userCertPems: readonly string[];
  readonly cloudKeyPem: string;
  /** The manifest object's bytes, or undefined when it does not exist. */
  readonly readObject: (bucket: string, key: string) => Promise<Buffer | undefined>;
  /** Size and SHA-1 of an object, or undefined when it does not exist. */
  readonly objectInfo: (bucket: string, key: string) => { size: number; sha1: string } | undefined;
  readonly images: readonly ImageRecord[];
  /**
   * The kernel and ramdisk a machine image gets when neither the request nor its
   * manifest names one, as Eucalyptus' `cloud.images.defaultkernel`/`defaultramdisk`
   * (unset: such a registration is refused with MissingParameter).
   */
  readonly defaultKernelId?: string;
  readonly defaultRamdiskId?: string;
}

/** What a successful check decided; the caller assigns the id and stores it. */
export interface AcceptedBundle {
  readonly imageType: ImageType;
  /** `hvm` only for a machine image registered with VirtualizationType=hvm. */
  readonly virtualizationType: 'paravirtual' | 'hvm';
  readonly imageLocation: string;
  readonly name: string;
  readonly description?: string;
  readonly architecture: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  /** Machine images only: as Eucalyptus derives it from the manifest (bundle-checks.ts). */
  readonly rootDeviceName?: string;
  readonly size: number;
  readonly bundledSize: number;
  readonly digest: string;
  readonly manifestSha256: string;
}
