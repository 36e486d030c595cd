// The create-disk step: an empty disk of the recipe's size and format (`qemu-img
// create`). The install step writes into a copy-on-write overlay of it.
import { join } from 'node:path';
import { planCommand } from './plan-command.js';
import { createArgs, runQemuImg } from '../tools/qemu-img.js';
import { err, ok } from '../core/result.js';
import type { StepKind } from '../plan/step.js';
import type { CreateDiskParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { toolStepFailure } from '../plan/step-failure.js';
import { diskFileName } from './upstream.js';

/** create-disk: artifact `disk` (disk.qcow2 or disk.raw); values `format`, `sizeBytes`. */
export const createDisk: StepKind<CreateDiskParams, 'create-disk'> = {
  kind: 'create-disk',
  tools: ['qemu-img'],
  describe(step) {
    const { format, sizeBytes } = step.params;
    return {
      summary: `create an empty ${formatSize(sizeBytes)} ${format} disk`,
      commands: [
        planCommand(
          'qemu-img',
          createArgs({ path: `<out>/${diskFileName(format)}`, format, sizeBytes }),
        ),
      ],
      effects: [],
      notes: [],
    };
  },
  async run(ctx) {
    const { format, sizeBytes } = ctx.step.params;
    const file = diskFileName(format);
    const r = await runQemuImg(
      ctx.exec,
      ctx,
      createArgs({ path: join(ctx.outDir, file), format, sizeBytes }),
    );
    if (!r.ok)
      return err(
        toolStepFailure(r.error, 'creating the disk', 'Check free space in the work directory.'),
      );
    return ok({ artifacts: { disk: file }, values: { format, sizeBytes } });
  },
};
