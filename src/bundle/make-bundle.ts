// bundleImage: what `euca-bundle-image` does, in one call: the parts (bundle-parts.ts) then
// the signed manifest (write-manifest.ts). Everything is checked before the heavy work
// starts; on failure nothing of the new bundle is left in the destination directory.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { BundleFailure, BundleWarning } from './bundle-failure.js';
import {
  checkManifestSettings,
  checkPrivateKey,
  publicKeyId,
  checkCertificate,
  type ManifestSettings,
} from './bundle-options.js';
import { createBundleParts, type BundleParts, type BundlePartsOptions } from './bundle-parts.js';
import type { ManifestData } from './manifest.js';
import { writeBundleManifest } from './write-manifest.js';

export interface BundleImageOptions extends BundlePartsOptions {
  /** Signs the manifest; without it the signature is `UNSIGNED` (as euca2ools without -k). */
  readonly userKeyPem?: string;
  /** Machine image: an eki id. Kernel image: nothing, or `true` to write <kernel_id>true</kernel_id> as `--kernel true`. */
  readonly kernelId?: string;
  /** Machine image: an eri id. Ramdisk image: nothing, or `true` as `--ramdisk true`. */
  readonly ramdiskId?: string;
  readonly blockDeviceMapping?: ManifestSettings['blockDeviceMapping'];
  readonly productCodes?: readonly string[];
}

export interface BundleResult {
  readonly manifestPath: string;
  readonly manifest: ManifestData;
  /** Absolute (or destDir-relative, as destDir was given) paths, in index order. */
  readonly parts: readonly {
    readonly path: string;
    readonly size: number;
    readonly sha1: string;
  }[];
  readonly record: BundleParts;
  readonly warnings: readonly BundleWarning[];
}

/**
 * Bundles `imagePath` into `destDir`: PREFIX.part.NN files and PREFIX.manifest.xml, as
 * euca-bundle-image 3.4.1 would (same tar stream and digest; gzip bytes differ, see spec
 * §2.5). Reports progress in bytes of the image and honours `task.signal`.
 */
export async function bundleImage(
  options: BundleImageOptions,
  task: TaskContext,
): Promise<Result<BundleResult, BundleFailure>> {
  const settings: ManifestSettings = {
    architecture: options.arch,
    ...(options.kernelId !== undefined ? { kernelId: options.kernelId } : {}),
    ...(options.ramdiskId !== undefined ? { ramdiskId: options.ramdiskId } : {}),
    ...(options.blockDeviceMapping !== undefined
      ? { blockDeviceMapping: options.blockDeviceMapping }
      : {}),
    ...(options.productCodes !== undefined ? { productCodes: options.productCodes } : {}),
  };
  const checked = checkManifestSettings(options.imageType, settings);
  if (!checked.ok) return checked;
  if (options.userKeyPem !== undefined) {
    const key = checkPrivateKey(options.userKeyPem);
    if (!key.ok) return key;
    if (options.userCertPem !== undefined) {
      const cert = checkCertificate('user', options.userCertPem);
      if (!cert.ok) return cert;
      if (publicKeyId(cert.value) !== publicKeyId(key.value))
        return err({ reason: 'key-certificate-mismatch' });
    }
  }
  const parts = await createBundleParts(options, task);
  if (!parts.ok) return parts;
  const written = await writeBundleManifest(
    parts.value,
    settings,
    options.userKeyPem,
    options.destDir,
  );
  if (!written.ok) {
    for (const part of parts.value.parts)
      await unlink(join(options.destDir, part.filename)).catch(() => undefined);
    return written;
  }
  return ok({
    manifestPath: written.value.manifestPath,
    manifest: written.value.manifest,
    parts: parts.value.parts.map((p) => ({
      path: join(options.destDir, p.filename),
      size: p.size,
      sha1: p.sha1,
    })),
    record: parts.value,
    warnings: parts.value.warnings,
  });
}
