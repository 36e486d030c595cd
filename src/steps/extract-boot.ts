// extract-kernel and extract-ramdisk: the kernel or initrd matching the installed
// kernel (the newest, or the version named in the recipe), read out of the root file
// system with debugfs: no VM, no mount. One implementation, two kinds.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepKind, StepOutputs, StepRunContext } from '../plan/step.js';
import type { ExtractBootParams } from '../plan/step-params.js';
import { planCommand } from './plan-command.js';
import { debugfsArgs } from '../tools/e2fs.js';
import { bootFileKind, chooseBootPair, type BootFileKind } from '../guest/boot-files.js';
import { cutRootImage, dumpFile, fileHead, listBoot, rootImagePath } from './root-image.js';
import { fsStepFailureOrRethrow, stepFailure } from '../plan/step-failure.js';
import { scratchDir } from './upstream.js';

const INITRD_KINDS: readonly BootFileKind[] = [
  'gzip',
  'zstd',
  'xz',
  'lz4',
  'bzip2',
  'lzma',
  'cpio',
];

/** Builds the kind that extracts the kernel (artifact `kernel`) or the initrd (artifact `ramdisk`). */
function extractBootKind<K extends 'extract-kernel' | 'extract-ramdisk'>(
  kind: K,
  which: 'kernel' | 'ramdisk',
): StepKind<ExtractBootParams, K> {
  const noun = which === 'kernel' ? 'kernel' : 'initrd';
  return {
    kind,
    tools: ['qemu-img', 'debugfs'],
    describe(step) {
      const v = step.params.kernel;
      return {
        summary: `copy the ${noun} of ${v === 'newest' ? 'the newest installed kernel' : `kernel ${v}`} out of the image`,
        commands: [
          'qemu-img convert --image-opts driver=raw,offset=<root>,size=<size>,file.driver=qcow2,... -O raw <tmp>/root.img',
          planCommand('debugfs', debugfsArgs('<tmp>/root.img', 'ls -p /boot')),
          planCommand(
            'debugfs',
            debugfsArgs(
              '<tmp>/root.img',
              `dump /boot/${which === 'kernel' ? 'vmlinuz' : 'initrd.img'}-<version> <out>/…`,
            ),
          ),
        ],
        effects: [],
        notes: ['no VM and no mount'],
      };
    },
    async run(ctx: StepRunContext<ExtractBootParams>): Promise<Result<StepOutputs, StepFailure>> {
      const scratch = await scratchDir(ctx);
      try {
        const root = await cutRootImage(ctx, rootImagePath(scratch.dir), scratch.dir);
        if (!root.ok) return root;
        const names = await listBoot(ctx, root.value.image);
        if (!names.ok) return names;
        const chosen = chooseBootPair(names.value, ctx.step.params.kernel);
        if (!chosen.ok) return err(stepFailure('guest', 'no-kernel', chosen.message));
        const { pair } = chosen;
        const name = which === 'kernel' ? pair.kernel : pair.initrd;
        const to = join(ctx.outDir, name);
        const dumped = await dumpFile(ctx, root.value.image, `/boot/${name}`, to);
        if (!dumped.ok) return dumped;
        const kind = bootFileKind(await fileHead(to));
        const good = which === 'kernel' ? kind === 'linux-kernel' : INITRD_KINDS.includes(kind);
        if (!good)
          return err(
            stepFailure(
              'guest',
              'bad-boot-file',
              `/boot/${name} is not ${which === 'kernel' ? 'a Linux kernel (no HdrS header)' : 'an initrd (not cpio, nor gzip/zstd/xz/lz4 compressed)'}: found ${kind}. Check the image's kernel package.`,
            ),
          );
        const size = (await stat(to)).size;
        ctx.log(
          `${noun}: /boot/${name} (${size} bytes, ${kind}); kernels in /boot: ${names.value.filter((n) => n.startsWith('vmlinuz-')).join(', ')}`,
        );
        return ok({
          artifacts: { [which]: name },
          values: { kernelVersion: pair.version, sizeBytes: size, fileType: kind },
        });
      } catch (error) {
        // A full or read-only work directory is the user's to fix; anything else is a bug (rethrown).
        return err(
          fsStepFailureOrRethrow(error, {
            doing: `extracting the ${noun}`,
            fallbackPath: ctx.workDir,
          }),
        );
      } finally {
        await scratch.remove();
      }
    },
  };
}

export const extractKernelKind = extractBootKind('extract-kernel', 'kernel');
export const extractRamdiskKind = extractBootKind('extract-ramdisk', 'ramdisk');
