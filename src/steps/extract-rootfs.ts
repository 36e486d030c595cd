// The extract-rootfs step: the root partition cut out of the customised disk as a raw
// file-system image (what Eucalyptus boots as the machine image), checked, then grown
// or shrunk to the recipe's size with resize2fs, and checked again when the file system
// changed since the first check. No VM, no mount, no root needed.
import { truncate, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepKind, StepOutputs } from '../plan/step.js';
import type { ExtractRootfsParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { planCommand } from './plan-command.js';
import {
  dumpe2fsArgs,
  e2fsckArgs,
  type FsckVerdict,
  parseDumpe2fs,
  parseMinimumBlocks,
  resize2fsArgs,
  resize2fsMinimumArgs,
  runE2fs,
  runFsck,
} from '../tools/e2fs.js';
import { cutRootImage } from './root-image.js';
import { fsStepFailureOrRethrow, stepFailure, toolStepFailure } from '../plan/step-failure.js';
import { scratchDir } from './upstream.js';

/**
 * Whether the extracted file system is checked again (`e2fsck -fn`) at the end: after
 * e2fsck changed it, or resize2fs did. A file system e2fsck -fp found clean and left
 * as it was would only be read a second time for the same answer.
 */
export function needsFinalCheck(firstCheck: FsckVerdict, resized: boolean): boolean {
  return resized || firstCheck !== 'clean';
}

/** extract-rootfs: artifact `rootfs` (<recipe>.img); values `sizeBytes`, `filesystem`, `label`, `uuid`. */
export const extractRootfs: StepKind<ExtractRootfsParams, 'extract-rootfs'> = {
  kind: 'extract-rootfs',
  tools: ['qemu-img', 'e2fsck', 'resize2fs', 'dumpe2fs'],
  typicalMs: 5_000,
  describe(step) {
    const image = `<out>/${step.params.name}`;
    return {
      summary: `cut the root file system out of the disk as ${step.params.name}, resized to ${formatSize(step.params.sizeBytes)}`,
      commands: [
        `qemu-img convert --image-opts driver=raw,offset=<root>,size=<size>,file.driver=qcow2,... -O raw ${image}`,
        planCommand('e2fsck', e2fsckArgs(image, 'repair')),
        planCommand('resize2fs', resize2fsArgs(image, step.params.sizeBytes)),
        `${planCommand('e2fsck', e2fsckArgs(image, 'check'))}   (after a repair or a resize)`,
      ],
      effects: [],
      notes: ['no VM and no mount'],
    };
  },
  async run(ctx): Promise<Result<StepOutputs, StepFailure>> {
    const { name, sizeBytes } = ctx.step.params;
    const image = join(ctx.outDir, name);
    const scratch = await scratchDir(ctx);
    try {
      const root = await cutRootImage(ctx, image, scratch.dir);
      if (!root.ok) return root;
      const repaired = await runFsck(ctx.exec, ctx, image, 'repair');
      if (!repaired.ok || repaired.value === 'errors-left')
        return err(
          repaired.ok
            ? stepFailure(
                'guest',
                'fsck-failed',
                'e2fsck found errors in the root file system it could not fix; the install or customize step left it damaged. Run them again.',
              )
            : toolStepFailure(repaired.error, 'checking the root file system'),
        );
      const target = Math.floor(sizeBytes / 4096) * 4096;
      const current = (await stat(image)).size;
      if (!needsFinalCheck(repaired.value, target !== current))
        ctx.log('e2fsck found the file system clean and it was not resized: no second check');
      if (target !== current) {
        if (target < current) {
          const min = await runE2fs(ctx.exec, ctx, 'resize2fs', resize2fsMinimumArgs(image));
          const dump = await runE2fs(ctx.exec, ctx, 'dumpe2fs', dumpe2fsArgs(image));
          const blocks = min.ok ? parseMinimumBlocks(min.value.stdout) : null;
          const blockSize = dump.ok ? (parseDumpe2fs(dump.value.stdout)?.blockSize ?? 4096) : 4096;
          if (blocks !== null && blocks * blockSize > target)
            return err(
              stepFailure(
                'input',
                'rootfs-too-small',
                `extract.rootfsSize is ${formatSize(sizeBytes)}, but the root file system needs at least ${formatSize(blocks * blockSize)}: raise extract.rootfsSize.`,
              ),
            );
        } else {
          await truncate(image, target);
        }
        const resized = await runE2fs(ctx.exec, ctx, 'resize2fs', resize2fsArgs(image, target));
        if (!resized.ok)
          return err(
            toolStepFailure(
              resized.error,
              `resizing the root file system to ${formatSize(target)}`,
            ),
          );
        if (target < current) await truncate(image, target);
      }
      const checked = needsFinalCheck(repaired.value, target !== current)
        ? await runFsck(ctx.exec, ctx, image, 'check')
        : ok('clean' as const);
      if (!checked.ok || checked.value !== 'clean')
        return err(
          checked.ok
            ? stepFailure(
                'guest',
                'fsck-failed',
                `e2fsck -fn reports problems in the extracted file system (${checked.value}).`,
              )
            : toolStepFailure(checked.error, 'checking the extracted file system'),
        );
      const finalSize = (await stat(image)).size;
      return ok({
        artifacts: { rootfs: name },
        values: {
          sizeBytes: finalSize,
          filesystem: root.value.fs.kind,
          label: root.value.fs.label,
          uuid: root.value.fs.uuid,
        },
      });
    } catch (error) {
      // A full or read-only work directory is the user's to fix; anything else is a bug (rethrown).
      return err(
        fsStepFailureOrRethrow(error, {
          doing: 'extracting the root file system',
          fallbackPath: ctx.workDir,
        }),
      );
    } finally {
      await scratch.remove();
    }
  },
};
