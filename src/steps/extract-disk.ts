// extract-disk (hvm images): the whole bootable disk (partition table, GRUB, root file
// system) converted to one raw image, the machine image that is bundled. No VM, no mount.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepKind, StepOutputs } from '../plan/step.js';
import type { ExtractDiskParams } from '../plan/step-params.js';
import { fsStepFailureOrRethrow, toolStepFailure } from '../plan/step-failure.js';
import { convertArgs, runQemuImg } from '../tools/qemu-img.js';
import { planCommand } from './plan-command.js';
import { upstreamDisk } from './upstream.js';

/** extract-disk: artifact `image` (<recipe>.img, raw); values `sizeBytes`. */
export const extractDisk: StepKind<ExtractDiskParams, 'extract-disk'> = {
  kind: 'extract-disk',
  tools: ['qemu-img'],
  typicalMs: 5_000,
  describe(step) {
    return {
      summary: `convert the whole bootable disk to the raw image ${step.params.name}`,
      commands: [
        planCommand(
          'qemu-img',
          convertArgs({
            from: '<make-bootable>/disk.qcow2',
            fromFormat: 'qcow2',
            to: `<out>/${step.params.name}`,
            toFormat: 'raw',
          }),
        ),
      ],
      effects: [],
      notes: ['no VM and no mount; the raw image is sparse'],
    };
  },
  async run(ctx): Promise<Result<StepOutputs, StepFailure>> {
    const base = upstreamDisk(ctx);
    if (!base.ok) return base;
    const { name } = ctx.step.params;
    const to = join(ctx.outDir, name);
    try {
      const r = await runQemuImg(
        ctx.exec,
        ctx,
        convertArgs({ from: base.value.path, fromFormat: base.value.format, to, toFormat: 'raw' }),
        'converting the disk',
      );
      if (!r.ok) return err(toolStepFailure(r.error, 'converting the disk to a raw image'));
      return ok({ artifacts: { image: name }, values: { sizeBytes: (await stat(to)).size } });
    } catch (error) {
      // A full or read-only work directory is the user's to fix; anything else is a bug (rethrown).
      return err(
        fsStepFailureOrRethrow(error, {
          doing: 'extracting the disk image',
          fallbackPath: ctx.workDir,
        }),
      );
    }
  },
};
