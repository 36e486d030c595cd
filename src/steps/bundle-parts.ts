// bundle-parts: the machine image's parts (tar, gzip, AES, split) and a JSON record of
// them; they do not depend on the kernel and ramdisk ids, so they are made while those
// images are uploaded and registered. The record holds only the RSA-encrypted key and IV.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ok } from '../core/result.js';
import type { StepKind } from '../plan/step.js';
import type { BundleParams } from '../plan/step-params.js';
import type { CloudSession } from './cloud-session.js';
import {
  PARTS_RECORD,
  bundleArtifacts,
  bundleValues,
  certDigest,
  verifyCloudCert,
  describeBundle,
  makeParts,
} from './bundle-common.js';

export function bundlePartsKind(session: CloudSession): StepKind<BundleParams, 'bundle-parts'> {
  return {
    kind: 'bundle-parts',
    tools: [],
    typicalMs: 5_000,
    describe: (step) => describeBundle(step, 'bundle the parts of'),
    verify: (_step, values, signal) => verifyCloudCert(session, values, signal),
    run: async (ctx) => {
      const identity = await session.identity(ctx.signal);
      if (!identity.ok) return identity;
      const parts = await makeParts(ctx, identity.value);
      if (!parts.ok) return parts;
      await writeFile(join(ctx.outDir, PARTS_RECORD), `${JSON.stringify(parts.value, null, 1)}\n`);
      return ok({
        artifacts: { ...bundleArtifacts(parts.value), record: PARTS_RECORD },
        values: {
          ...bundleValues(parts.value),
          cloudCert: certDigest(identity.value.cloudCertPem),
        },
      });
    },
  };
}
