// Phase two of bundling: the machine configuration (kernel/ramdisk ids, block device
// mapping, product codes) joins a BundleParts record and the signed PREFIX.manifest.xml is
// written atomically. Runs in milliseconds, so it can wait for the eki/eri ids.
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { err, ok, type Result } from '../core/result.js';
import type { BundleFailure } from './bundle-failure.js';
import {
  checkManifestSettings,
  checkPrivateKey,
  publicKeyId,
  type ManifestSettings,
} from './bundle-options.js';
import type { BundleParts } from './bundle-parts.js';
import { renderSignedManifest, type ManifestData } from './manifest.js';

/** The manifest data of a bundle, with its settings checked against its image type. */
export function buildManifestData(
  parts: BundleParts,
  settings: ManifestSettings,
): Result<ManifestData, BundleFailure> {
  const checked = checkManifestSettings(parts.imageType, settings);
  if (!checked.ok) return checked;
  const s = checked.value;
  return ok({
    bundler: parts.bundler,
    machineConfiguration: {
      architecture: s.architecture ?? parts.architecture,
      ...(s.blockDeviceMapping !== undefined && s.blockDeviceMapping.length > 0
        ? { blockDeviceMapping: s.blockDeviceMapping }
        : {}),
      ...(s.productCodes !== undefined && s.productCodes.length > 0
        ? { productCodes: s.productCodes }
        : {}),
      ...(s.kernelId !== undefined ? { kernelId: s.kernelId } : {}),
      ...(s.ramdiskId !== undefined ? { ramdiskId: s.ramdiskId } : {}),
    },
    image: {
      name: parts.prefix,
      user: parts.account,
      type: parts.imageType,
      digest: parts.digest,
      size: parts.imageSize,
      bundledSize: parts.bundledSize,
      ec2EncryptedKey: parts.ec2EncryptedKey,
      userEncryptedKey: parts.userEncryptedKey,
      ec2EncryptedIv: parts.ec2EncryptedIv,
      userEncryptedIv: parts.userEncryptedIv,
      parts: parts.parts.map((p) => ({ filename: p.filename, digest: p.sha1 })),
    },
  });
}

/** Where writeBundleManifest put the manifest, and what it says. */
export interface WrittenManifest {
  readonly manifestPath: string;
  readonly manifest: ManifestData;
}

/**
 * Writes `destDir/PREFIX.manifest.xml` (temp file + fsync + rename), signed with
 * `userKeyPem` (RSA-SHA1), or `UNSIGNED` when it is undefined, as euca2ools without -k.
 * Fails with `key-certificate-mismatch` when the key is not the one of the user
 * certificate the parts were made for, and `invalid-option` when a setting does not suit
 * the image type (e.g. a ramdisk id for a kernel image).
 */
export async function writeBundleManifest(
  parts: BundleParts,
  settings: ManifestSettings,
  userKeyPem: string | undefined,
  destDir: string,
): Promise<Result<WrittenManifest, BundleFailure>> {
  const data = buildManifestData(parts, settings);
  if (!data.ok) return data;
  if (userKeyPem !== undefined) {
    const key = checkPrivateKey(userKeyPem);
    if (!key.ok) return key;
    if (parts.userPublicKeyId !== undefined && publicKeyId(key.value) !== parts.userPublicKeyId)
      return err({ reason: 'key-certificate-mismatch' });
  }
  const manifestPath = join(destDir, `${parts.prefix}.manifest.xml`);
  const text = renderSignedManifest(data.value, userKeyPem);
  try {
    await writeFileAtomic(manifestPath, Buffer.from(text, 'latin1'));
  } catch (error) {
    return err({
      reason: 'output-error',
      path: manifestPath,
      code: (error as NodeJS.ErrnoException).code ?? String(error),
    });
  }
  return ok({ manifestPath, manifest: data.value });
}

/**
 * Reads a BundleParts record back from JSON (as stored between runs). Undefined when the
 * value is not a record of this format version.
 */
export function parseBundleParts(value: unknown): BundleParts | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const strings = [
    'prefix',
    'imageType',
    'architecture',
    'account',
    'digest',
    'ec2EncryptedKey',
    'ec2EncryptedIv',
    'userEncryptedKey',
    'userEncryptedIv',
  ];
  if (v.formatVersion !== 1) return undefined;
  if (!strings.every((name) => typeof v[name] === 'string')) return undefined;
  if (!['machine', 'kernel', 'ramdisk'].includes(v.imageType as string)) return undefined;
  if (!Number.isSafeInteger(v.imageSize) || !Number.isSafeInteger(v.bundledSize)) return undefined;
  if (!Array.isArray(v.parts) || !Array.isArray(v.warnings)) return undefined;
  const partOk = (p: unknown): boolean => {
    const part = p as Record<string, unknown> | null;
    return (
      part !== null &&
      typeof part === 'object' &&
      typeof part.filename === 'string' &&
      typeof part.sha1 === 'string' &&
      Number.isSafeInteger(part.size)
    );
  };
  if (!v.parts.every(partOk)) return undefined;
  const bundler = v.bundler as Record<string, unknown> | null;
  if (
    bundler === null ||
    typeof bundler !== 'object' ||
    !['name', 'version', 'release'].every((k) => typeof bundler[k] === 'string')
  )
    return undefined;
  return value as BundleParts;
}
