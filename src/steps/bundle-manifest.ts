// bundle-manifest: the machine manifest naming the registered eki and eri, signed; the
// parts are hard-linked from bundle-parts so that this step's directory is a whole bundle.
import { link, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok } from '../core/result.js';
import { parseBundleParts, writeBundleManifest } from '../bundle/write-manifest.js';
import { describeBundleFailure } from '../bundle/bundle-failure.js';
import type { StepKind } from '../plan/step.js';
import type { BundleManifestParams } from '../plan/step-params.js';
import type { CloudSession } from './cloud-session.js';
import { bundleArtifacts, bundleValues, buildIdOf } from './bundle-common.js';
import { stepFailure } from '../plan/step-failure.js';

export function bundleManifestKind(
  session: CloudSession,
): StepKind<BundleManifestParams, 'bundle-manifest'> {
  return {
    kind: 'bundle-manifest',
    tools: [],
    describe: (step) => ({
      summary: 'write and sign the machine manifest, naming the registered kernel and ramdisk ids',
      commands: [],
      effects: [],
      notes:
        step.params.blockDeviceMapping.length > 0
          ? [
              `block device mapping: ${step.params.blockDeviceMapping.map((m) => `${m.virtual}=${m.device}`).join(', ')}`,
            ]
          : [],
    }),
    run: async (ctx) => {
      const partsStep = [...ctx.needs.values()].find((n) => n.artifacts.record !== undefined);
      const kernelId = [...ctx.needs.values()]
        .map((n) => n.values.imageId)
        .find((v) => typeof v === 'string' && v.startsWith('eki-'));
      const ramdiskId = [...ctx.needs.values()]
        .map((n) => n.values.imageId)
        .find((v) => typeof v === 'string' && v.startsWith('eri-'));
      if (
        !partsStep?.artifacts.record ||
        typeof kernelId !== 'string' ||
        typeof ramdiskId !== 'string'
      ) {
        return err(
          stepFailure(
            'internal',
            'missing-inputs',
            'bundle-manifest needs the machine parts and the registered eki and eri ids',
          ),
        );
      }
      const record = parseBundleParts(
        JSON.parse(
          await readFile(join(partsStep.dir, partsStep.artifacts.record), 'utf8'),
        ) as unknown,
      );
      if (!record)
        return err(
          stepFailure(
            'input',
            'parts-record-invalid',
            `the parts record in ${partsStep.dir} is not readable: run apply --force bundle-machine`,
          ),
        );
      const identity = await session.identity(ctx.signal);
      if (!identity.ok) return identity;
      // The parts stay where bundle-parts wrote them; hard links make this step's directory a whole bundle.
      for (const part of record.parts)
        await link(join(partsStep.dir, part.filename), join(ctx.outDir, part.filename));
      const written = await writeBundleManifest(
        record,
        {
          architecture: ctx.step.params.arch,
          kernelId,
          ramdiskId,
          blockDeviceMapping: ctx.step.params.blockDeviceMapping,
        },
        identity.value.userKeyPem,
        ctx.outDir,
      );
      if (!written.ok)
        return err(stepFailure('input', 'manifest-failed', describeBundleFailure(written.error)));
      ctx.log(`manifest names kernel ${kernelId} and ramdisk ${ramdiskId}`);
      return ok({
        artifacts: bundleArtifacts(record, written.value.manifestPath.slice(ctx.outDir.length + 1)),
        values: {
          ...bundleValues(record),
          kernelId,
          ramdiskId,
          buildId: await buildIdOf(written.value.manifestPath),
        },
      });
    },
  };
}
