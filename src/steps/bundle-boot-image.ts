// bundle-image: a kernel or ramdisk bundle (or an hvm machine image: no kernel or ramdisk
// to wait for), parts and signed manifest in one step, as `euca-bundle-image --kernel
// true` / `--ramdisk true` / without either. Its build id (a digest of the
// manifest) keeps its upload location unique.
import { err, ok } from '../core/result.js';
import { writeBundleManifest } from '../bundle/write-manifest.js';
import { describeBundleFailure } from '../bundle/bundle-failure.js';
import type { ManifestSettings } from '../bundle/bundle-options.js';
import type { StepKind, StepOutputs } from '../plan/step.js';
import type { BundleParams } from '../plan/step-params.js';
import type { CloudSession } from './cloud-session.js';
import {
  bundleArtifacts,
  bundleValues,
  certDigest,
  verifyCloudCert,
  buildIdOf,
  describeBundle,
  makeParts,
} from './bundle-common.js';
import { stepFailure } from '../plan/step-failure.js';

/**
 * The manifest settings of a one-step bundle, as euca-bundle-image writes them: `--kernel
 * true` / `--ramdisk true` for a kernel or ramdisk; for an hvm machine image neither
 * --kernel nor --ramdisk (no kernel_id, no ramdisk_id), with -B's block device mapping
 * when the recipe has one.
 */
export function bundleImageManifestSettings(params: BundleParams): ManifestSettings {
  const mapping = params.blockDeviceMapping ?? [];
  switch (params.imageType) {
    case 'kernel':
      return { architecture: params.arch, kernelId: 'true' };
    case 'ramdisk':
      return { architecture: params.arch, ramdiskId: 'true' };
    case 'machine':
      return {
        architecture: params.arch,
        ...(mapping.length > 0 ? { blockDeviceMapping: mapping } : {}),
      };
  }
}

export function bundleImageKind(session: CloudSession): StepKind<BundleParams, 'bundle-image'> {
  return {
    kind: 'bundle-image',
    tools: [],
    describe: (step) => describeBundle(step, 'bundle'),
    verify: (_step, values, signal) => verifyCloudCert(session, values, signal),
    run: async (ctx) => {
      const identity = await session.identity(ctx.signal);
      if (!identity.ok) return identity;
      const parts = await makeParts(ctx, identity.value);
      if (!parts.ok) return parts;
      const written = await writeBundleManifest(
        parts.value,
        bundleImageManifestSettings(ctx.step.params),
        identity.value.userKeyPem,
        ctx.outDir,
      );
      if (!written.ok)
        return err(stepFailure('input', 'manifest-failed', describeBundleFailure(written.error)));
      const manifest = written.value.manifestPath.slice(ctx.outDir.length + 1);
      const outputs: StepOutputs = {
        artifacts: bundleArtifacts(parts.value, manifest),
        values: {
          ...bundleValues(parts.value),
          buildId: await buildIdOf(written.value.manifestPath),
          cloudCert: certDigest(identity.value.cloudCertPem),
        },
      };
      return ok(outputs);
    },
  };
}
