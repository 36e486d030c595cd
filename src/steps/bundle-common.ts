// Shared by the bundle step kinds (bundle-image, bundle-parts, bundle-manifest): which
// image to bundle, the parts, the artifacts and values a bundle step records, its build id.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { createBundleParts, type BundleParts } from '../bundle/bundle-parts.js';
import { describeBundleFailure, describeBundleWarning } from '../bundle/bundle-failure.js';
import type { JsonValue, StepFailure, StepKind, StepRunContext } from '../plan/step.js';
import type { BundleParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { targetLabel, type BundleIdentity, type CloudSession } from './cloud-session.js';
import { stepFailure } from '../plan/step-failure.js';

/** Name of the JSON record of a machine bundle's parts (read by bundle-manifest). */
export const PARTS_RECORD = 'bundle-parts.json';

/** The first 12 hex digits of the manifest's SHA-256: unique per bundle (random key and IV). */
export async function buildIdOf(manifestPath: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(manifestPath))
    .digest('hex')
    .slice(0, 12);
}

/** The upstream artifact to bundle: the first one of the extract step this step needs (extract-disk's `image` for hvm). */
function imageToBundle(ctx: StepRunContext<BundleParams>): string | undefined {
  for (const need of ctx.needs.values()) {
    for (const name of ['kernel', 'ramdisk', 'rootfs', 'image']) {
      const file = need.artifacts[name];
      if (file !== undefined) return join(need.dir, file);
    }
  }
  return undefined;
}

/** Artifacts of a bundle: the manifest (when written) and each part, by stable names. */
export function bundleArtifacts(parts: BundleParts, manifest?: string): Record<string, string> {
  const artifacts: Record<string, string> = {};
  if (manifest !== undefined) artifacts.manifest = manifest;
  parts.parts.forEach((part, i) => {
    artifacts[`part-${String(i).padStart(2, '0')}`] = part.filename;
  });
  return artifacts;
}

export function bundleValues(parts: BundleParts): Record<string, JsonValue> {
  return {
    imageType: parts.imageType,
    prefix: parts.prefix,
    digest: parts.digest,
    imageSize: parts.imageSize,
    bundledSize: parts.bundledSize,
    parts: parts.parts.length,
  };
}

export async function makeParts(
  ctx: StepRunContext<BundleParams>,
  identity: BundleIdentity,
): Promise<Result<BundleParts, StepFailure>> {
  const p = ctx.step.params;
  const image = imageToBundle(ctx);
  if (image === undefined)
    return err(
      stepFailure(
        'internal',
        'no-image',
        `step ${ctx.step.id} found no image to bundle among its needs`,
      ),
    );
  ctx.log(
    `bundling ${image} as ${p.prefix} (${p.imageType}, ${p.arch}, parts of ${formatSize(p.partSizeBytes)})`,
  );
  const parts = await createBundleParts(
    {
      imagePath: image,
      destDir: ctx.outDir,
      prefix: p.prefix,
      imageType: p.imageType,
      arch: p.arch,
      account: p.account ?? identity.account,
      userCertPem: identity.userCertPem,
      cloudCertPem: identity.cloudCertPem,
      partSize: p.partSizeBytes,
      exec: ctx.exec,
      // Compress on the cores a running VM (the boot test) has not claimed.
      cores: () => ctx.cores.free(),
    },
    ctx,
  );
  if (!parts.ok)
    return err(stepFailure('input', 'bundle-failed', describeBundleFailure(parts.error)));
  for (const warning of parts.value.warnings) ctx.log(`warning: ${describeBundleWarning(warning)}`);
  ctx.log(
    `${parts.value.parts.length} part(s), ${formatSize(parts.value.bundledSize)} from ${formatSize(parts.value.imageSize)}`,
  );
  return ok(parts.value);
}

export function describeBundle(
  step: { params: BundleParams },
  what: string,
): ReturnType<StepKind['describe']> {
  const p = step.params;
  return {
    summary: `${what} ${p.prefix} (${p.imageType}, ${p.arch}): tar, gzip, AES-128-CBC, parts of ${formatSize(p.partSizeBytes)}`,
    commands: [],
    effects: [],
    notes: [
      `image key encrypted for the ${p.target.cloud === 'local' ? "local cloud's" : "cloud's"} certificate and yours; manifest signed with your key (${targetLabel(p.target, 's3')})`,
    ],
  };
}

/** A short digest of the cloud certificate a bundle's key is encrypted for (recorded in its values). */
export function certDigest(pem: string): string {
  return createHash('sha256').update(pem.trim()).digest('hex').slice(0, 16);
}

/**
 * With --refresh: a bundle made for the embedded cloud is only good for that cloud's
 * certificate; a re-created local cloud (new keys) cannot decrypt it. Real clouds' certificates
 * are input files, already part of the fingerprint.
 */
export async function verifyCloudCert(
  session: CloudSession,
  values: Readonly<Record<string, JsonValue>>,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (!session.isLocal || typeof values.cloudCert !== 'string') return undefined;
  const identity = await session.identity(signal);
  if (!identity.ok) return undefined;
  return certDigest(identity.value.cloudCertPem) === values.cloudCert
    ? undefined
    : "the bundle was made for another local cloud certificate (the local cloud's data was re-created)";
}
