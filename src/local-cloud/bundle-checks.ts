// What the local cloud checks before it accepts a bundle at RegisterImage: Eucalyptus
// 4.x's checks (spec §6.1, §6.2) plus the ones Eucalyptus only makes later, at launch
// (§6.3), so that a bundle it accepts would really boot: signature against the account's
// certificate, key and IV decryptable with the cloud key, every part present with its
// SHA-1. Pure: the objects and images are looked up through the functions given.
import { createHash } from 'node:crypto';
import { type ImageType } from '../bundle/manifest.js';
import {
  effectiveImageType,
  parseManifest,
  verifyManifestSignature,
} from '../bundle/manifest-read.js';
import { decryptWithPrivateKey } from '../bundle/rsa.js';
import { err, ok, type Result } from '../core/result.js';
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
  readonly imageLocation: string;
  readonly name: string;
  readonly description?: string;
  readonly architecture: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  readonly size: number;
  readonly bundledSize: number;
  readonly digest: string;
  readonly manifestSha256: string;
}

const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
const MAX_IMAGE_BYTES = 30 * 1024 ** 3;
const NAME_RULE = /^[A-Za-z0-9()./_-]{3,128}$/;
const ARCHITECTURES = new Set(['i386', 'x86_64']);

const refuse = (code: string, message: string, status?: number): Result<AcceptedBundle, Ec2Error> =>
  err({ code, message, ...(status !== undefined ? { status } : {}) });

function decryptsToHex(hex: string, keyPem: string): boolean {
  const plain = decryptWithPrivateKey(hex, keyPem);
  return plain.ok && /^[0-9a-fA-F]{32}$/.test(plain.value);
}

/**
 * Runs every check in Eucalyptus' order and returns what to register, or the first
 * refusal with a Eucalyptus-like code and message.
 */
export async function checkRegistration(
  request: RegisterRequest,
  ctx: CheckContext,
): Promise<Result<AcceptedBundle, Ec2Error>> {
  if (!NAME_RULE.test(request.name))
    return refuse(
      'InvalidAMIName.Malformed',
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_': '${request.name}'`,
    );
  if (
    request.virtualizationType !== undefined &&
    !['paravirtual', 'hvm'].includes(request.virtualizationType.toLowerCase())
  )
    return refuse(
      'InvalidParameterValue',
      `Unknown virtualization-type: ${request.virtualizationType}`,
    );
  const location = request.imageLocation.replace(/^\/+/, '');
  const slash = location.indexOf('/');
  if (slash < 2 || slash === location.length - 1)
    return refuse('InvalidParameterValue', `Invalid image location: ${request.imageLocation}`);
  const bucket = location.slice(0, slash);
  const key = location.slice(slash + 1);
  const manifestBytes = await ctx.readObject(bucket, key);
  if (manifestBytes === undefined || manifestBytes.length > MAX_MANIFEST_BYTES)
    return refuse('InvalidManifest', `Failed to read manifest file: ${bucket}/${key}`);
  const text = manifestBytes.toString('latin1');
  const parsed = parseManifest(text);
  if (!parsed.ok)
    return refuse(
      'InvalidManifest',
      `Failed to read manifest file: ${bucket}/${key}: ${parsed.error.field}: ${parsed.error.problem}`,
    );
  const manifest = parsed.value;
  if (manifest.image.user.replace(/-/g, '') !== ctx.accountId)
    return refuse(
      'AuthFailure',
      `Manifest is not accessible: ${bucket}/${key} belongs to account ${manifest.image.user}, not ${ctx.accountId}`,
      401,
    );
  if (!ctx.userCertPems.some((cert) => verifyManifestSignature(manifest, cert)))
    return refuse(
      'InvalidManifest',
      `Invalid signature: ${bucket}/${key} is not signed by a certificate of account ${ctx.accountId} (bundle with the account's certificate and private key)`,
    );
  if (
    !decryptsToHex(manifest.image.ec2EncryptedKey, ctx.cloudKeyPem) ||
    !decryptsToHex(manifest.image.ec2EncryptedIv, ctx.cloudKeyPem)
  )
    return refuse(
      'InvalidManifest',
      `DecryptionFailed: the AES params (ec2_encrypted_key/ec2_encrypted_iv) of ${bucket}/${key} cannot be decrypted with this cloud's private key: the bundle was made for another cloud certificate`,
    );
  const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  let partBytes = 0;
  for (const [index, part] of manifest.image.parts.entries()) {
    const info = ctx.objectInfo(bucket, `${dir}${part.filename}`);
    if (info === undefined)
      return refuse(
        'InvalidManifest',
        `Part ${index} (${bucket}/${dir}${part.filename}) listed in the manifest is missing: upload the bundle completely`,
      );
    if (info.sha1 !== part.digest)
      return refuse(
        'InvalidManifest',
        `Part ${index} (${bucket}/${dir}${part.filename}) has SHA-1 ${info.sha1}, the manifest says ${part.digest}`,
      );
    partBytes += info.size;
  }
  if (partBytes !== manifest.image.bundledSize)
    return refuse(
      'InvalidManifest',
      `The parts hold ${partBytes} bytes, the manifest's bundled_size says ${manifest.image.bundledSize}`,
    );
  const type = effectiveImageType(manifest, key);
  if (type !== 'machine' && !ctx.isAdmin)
    return refuse('UnauthorizedOperation', `Only administrators can register ${type} images.`, 403);
  if (manifest.image.size > MAX_IMAGE_BYTES)
    return refuse(
      'InvalidParameterValue',
      `Cannot register image of size ${manifest.image.size} bytes because it exceeds the configured maximum instance-store image size of 30 GB`,
    );
  const architecture =
    request.architecture ?? (manifest.machineConfiguration.architecture || 'i386');
  if (!ARCHITECTURES.has(architecture))
    return refuse(
      'InvalidParameterValue',
      `Unsupported architecture '${architecture}': expected i386 or x86_64`,
    );
  let kernelId: string | undefined;
  let ramdiskId: string | undefined;
  if (type === 'machine') {
    const fromManifest = (value: string | undefined, prefix: string): string | undefined =>
      value?.startsWith(`${prefix}-`) === true ? value : undefined;
    kernelId =
      request.kernelId ??
      fromManifest(manifest.machineConfiguration.kernelId, 'eki') ??
      ctx.defaultKernelId;
    ramdiskId =
      request.ramdiskId ??
      fromManifest(manifest.machineConfiguration.ramdiskId, 'eri') ??
      ctx.defaultRamdiskId;
    if (kernelId === undefined) return refuse('MissingParameter', 'Kernel ID must be specified');
    if (ramdiskId === undefined) return refuse('MissingParameter', 'Ramdisk ID must be specified');
    for (const [id, wanted] of [
      [kernelId, 'kernel'],
      [ramdiskId, 'ramdisk'],
    ] as const) {
      const image = ctx.images.find((i) => i.imageId === id);
      if (image === undefined)
        return refuse('InvalidAMIID.NotFound', `The ${wanted} image ID '${id}' does not exist`);
      if (image.imageType !== wanted)
        return refuse(
          'InvalidParameterValue',
          `Image '${id}' is a ${image.imageType} image, not a ${wanted} image`,
        );
      if (image.state !== 'available')
        return refuse('InvalidAMIID.Unavailable', `The ${wanted} image '${id}' is ${image.state}`);
    }
  }
  const duplicate = ctx.images.find(
    (i) =>
      i.ownerId === ctx.accountId &&
      i.name === request.name &&
      (i.state === 'available' || i.state === 'pending'),
  );
  if (duplicate !== undefined)
    return refuse(
      'InvalidAMIName.Duplicate',
      `AMI name ${request.name} is already in use by EMI ${duplicate.imageId}`,
    );
  return ok({
    imageType: type,
    imageLocation: location,
    name: request.name,
    ...(request.description !== undefined ? { description: request.description } : {}),
    architecture,
    ...(kernelId !== undefined ? { kernelId } : {}),
    ...(ramdiskId !== undefined ? { ramdiskId } : {}),
    size: manifest.image.size,
    bundledSize: manifest.image.bundledSize,
    digest: manifest.image.digest,
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
  });
}
