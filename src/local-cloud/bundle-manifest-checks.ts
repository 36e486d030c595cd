// The RegisterImage checks of the manifest itself, in Eucalyptus' order (spec §6.1-§6.3):
// readable and well-formed, the caller's, signed by the account, its AES key and IV
// decryptable by this cloud, every part present with its SHA-1, type and size allowed.
// Pure: objects are looked up through the CheckContext's functions.
import {
  effectiveImageType,
  parseManifest,
  verifyManifestSignature,
  type ParsedManifest,
} from '../bundle/manifest-read.js';
import { decryptWithPrivateKey } from '../bundle/rsa.js';
import { err, ok, type Result } from '../core/result.js';
import type { CheckContext, Ec2Error } from './bundle-check-types.js';

const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;
const MAX_IMAGE_BYTES = 30 * 1024 ** 3;

/** A refusal with an EC2 code, message and (when not 400) HTTP status. */
export const refuse = (code: string, message: string, status?: number): Result<never, Ec2Error> =>
  err({ code, message, ...(status !== undefined ? { status } : {}) });

function decryptsToHex(hex: string, keyPem: string): boolean {
  const plain = decryptWithPrivateKey(hex, keyPem);
  return plain.ok && /^[0-9a-fA-F]{32}$/.test(plain.value);
}

/** A manifest read from the store, with where it was found. */
export interface LoadedManifest {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: Buffer;
  readonly manifest: ParsedManifest;
}

/** The manifest at bucket/key, read (at most 5 MiB) and parsed. */
export async function readManifest(
  ctx: CheckContext,
  bucket: string,
  key: string,
): Promise<Result<LoadedManifest, Ec2Error>> {
  const bytes = await ctx.readObject(bucket, key);
  if (bytes === undefined || bytes.length > MAX_MANIFEST_BYTES)
    return refuse('InvalidManifest', `Failed to read manifest file: ${bucket}/${key}`);
  const parsed = parseManifest(bytes.toString('latin1'));
  if (!parsed.ok)
    return refuse(
      'InvalidManifest',
      `Failed to read manifest file: ${bucket}/${key}: ${parsed.error.field}: ${parsed.error.problem}`,
    );
  return ok({ bucket, key, bytes, manifest: parsed.value });
}

/** One check of a loaded manifest: the refusal, or undefined when it passes. */
export type ManifestCheck = (
  loaded: LoadedManifest,
  ctx: CheckContext,
) => Result<never, Ec2Error> | undefined;

const checkOwner: ManifestCheck = ({ bucket, key, manifest }, ctx) =>
  manifest.image.user.replace(/-/g, '') !== ctx.accountId
    ? refuse(
        'AuthFailure',
        `Manifest is not accessible: ${bucket}/${key} belongs to account ${manifest.image.user}, not ${ctx.accountId}`,
        401,
      )
    : undefined;

const checkSignature: ManifestCheck = ({ bucket, key, manifest }, ctx) =>
  !ctx.userCertPems.some((cert) => verifyManifestSignature(manifest, cert))
    ? refuse(
        'InvalidManifest',
        `Invalid signature: ${bucket}/${key} is not signed by a certificate of account ${ctx.accountId} (bundle with the account's certificate and private key)`,
      )
    : undefined;

const checkDecryptable: ManifestCheck = ({ bucket, key, manifest }, ctx) =>
  !decryptsToHex(manifest.image.ec2EncryptedKey, ctx.cloudKeyPem) ||
  !decryptsToHex(manifest.image.ec2EncryptedIv, ctx.cloudKeyPem)
    ? refuse(
        'InvalidManifest',
        `DecryptionFailed: the AES params (ec2_encrypted_key/ec2_encrypted_iv) of ${bucket}/${key} cannot be decrypted with this cloud's private key: the bundle was made for another cloud certificate`,
      )
    : undefined;

/** Every part present beside the manifest with its SHA-1, and together the bundled size. */
const checkParts: ManifestCheck = ({ bucket, key, manifest }, ctx) => {
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
  return undefined;
};

/** Kernels and ramdisks are for administrators; no image above 30 GB. */
const checkTypeAndSize: ManifestCheck = ({ key, manifest }, ctx) => {
  const type = effectiveImageType(manifest, key);
  if (type !== 'machine' && !ctx.isAdmin)
    return refuse('UnauthorizedOperation', `Only administrators can register ${type} images.`, 403);
  if (manifest.image.size > MAX_IMAGE_BYTES)
    return refuse(
      'InvalidParameterValue',
      `Cannot register image of size ${manifest.image.size} bytes because it exceeds the configured maximum instance-store image size of 30 GB`,
    );
  return undefined;
};

/** The manifest checks in Eucalyptus' order; the first refusal wins. */
export const MANIFEST_CHECKS: readonly ManifestCheck[] = [
  checkOwner,
  checkSignature,
  checkDecryptable,
  checkParts,
  checkTypeAndSize,
];
