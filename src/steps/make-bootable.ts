// make-bootable (hvm images): GRUB for BIOS, from the image's own grub-pc, on a
// copy-on-write overlay of customize's disk. As root: the disk is copied out to a raw file
// and its root partition loop-mounted; in a chroot the image's grub-mkimage makes core.img;
// grub.cfg (console on tty0 and ttyS0) is written; then boot.img and core.img go into the
// MBR and the gap before the first partition (guest/grub-bios.ts), as grub-install would put
// them, and what changed into the overlay (steps/root-chroot.ts). No loop device for the
// whole disk, no partition device nodes: works in containers.
import { mkdtemp, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  containedDir,
  containedFile,
  lstatContained,
  removeContained,
  writeContained,
} from '../core/contained-path.js';
import { err, ok, type Result } from '../core/result.js';
import { chooseBootPair } from '../guest/boot-files.js';
import {
  BOOT_IMG,
  CORE_IMG,
  describeGrubEmbedProblem,
  embedGrub,
  GRUB_DEFAULTS,
  grubConfig,
  grubDefaults,
  grubInstallScript,
  kernelCommandLine,
  type GrubBootSpec,
} from '../guest/grub-bios.js';
import type { StepFailure, StepKind, StepOutputs, StepRunContext } from '../plan/step.js';
import type { MakeBootableParams } from '../plan/step-params.js';
import { fsStepFailureOrRethrow, stepFailure, toolStepFailure } from '../plan/step-failure.js';
import { runChroot } from '../tools/chroot.js';
import type { Sandbox } from '../tools/namespace.js';
import type { DiskLayout } from '../vm/disk-probe.js';
import { unsafeImageFailure } from '../vm/chroot-session.js';
import { inRootChroot } from './root-chroot.js';
import { diskFileName, scratchDir, upstreamDisk, type UpstreamDisk } from './upstream.js';

const SCRIPT = 'var/tmp/emi-recipe-make-bootable.sh';

/** What the chroot part leaves for the boot sectors. */
interface GrubFiles {
  readonly bootImg: Uint8Array;
  readonly coreImg: Uint8Array;
  readonly spec: GrubBootSpec;
}

/** Reads a regular file of the mounted image, refusing links. */
async function readImageFile(
  host: string,
  path: string,
  doing: string,
): Promise<Result<Uint8Array, StepFailure>> {
  const kind = await lstatContained(host, path);
  if (!kind.ok) return err(unsafeImageFailure(kind.error, doing));
  if (kind.value !== 'file')
    return err(
      stepFailure(
        'guest',
        'no-grub',
        `${doing}: the image's ${path} is ${kind.value === undefined ? 'missing' : `a ${kind.value}, not a file`}. Install grub-pc in the image: the hvm plan adds it for debootstrap, preseed and autoinstall installs; otherwise list it in customize.packages.`,
      ),
    );
  const file = await containedFile(host, path, { create: false });
  if (!file.ok) return err(unsafeImageFailure(file.error, doing));
  return ok(new Uint8Array(await readFile(file.value)));
}

/** Writes `data` at `path` in the mounted image, replacing what is there (never through a link). */
async function replaceImageFile(
  host: string,
  path: string,
  data: string,
  doing: string,
): Promise<Result<void, StepFailure>> {
  const removed = await removeContained(host, path);
  if (!removed.ok) return err(unsafeImageFailure(removed.error, doing));
  const wrote = await writeContained(host, path, data, 0o644);
  return wrote.ok ? ok(undefined) : err(unsafeImageFailure(wrote.error, doing));
}

/** In the chroot: core.img from the image's grub-mkimage, grub.cfg and the defaults drop-in. */
async function installInImage(
  ctx: StepRunContext<MakeBootableParams>,
  sb: Sandbox,
  mnt: string,
  layout: DiskLayout,
): Promise<Result<GrubFiles, StepFailure>> {
  const host = sb.hostPath(mnt);
  const doing = 'installing GRUB in the image';
  const partition = `msdos${layout.root.number}`;
  const staged = await replaceImageFile(host, SCRIPT, grubInstallScript({ partition }), doing);
  if (!staged.ok) return staged;
  const r = await runChroot(sb.exec, ctx, {
    root: mnt,
    command: ['/bin/sh', `/${SCRIPT}`],
    onLine: ctx.log,
  });
  await removeContained(host, SCRIPT);
  if (!r.ok)
    return err(
      toolStepFailure(
        r.error,
        "making GRUB's core.img with the image's grub-mkimage",
        'The image needs grub-pc (GRUB for BIOS): the hvm plan adds it for debootstrap, preseed and autoinstall installs (see the customize step in `emi-recipe plan`); otherwise list it in customize.packages.',
      ),
    );
  const boot = await containedDir(host, 'boot', { create: false });
  if (!boot.ok) return err(unsafeImageFailure(boot.error, doing));
  const chosen = chooseBootPair(await readdir(boot.value), ctx.step.params.kernel);
  if (!chosen.ok) return err(stepFailure('guest', 'no-kernel', chosen.message));
  const uuid = layout.root.fs.uuid;
  if (uuid === null)
    return err(stepFailure('guest', 'no-root-uuid', 'the root file system has no UUID'));
  const spec: GrubBootSpec = {
    kernelVersion: chosen.pair.version,
    rootUuid: uuid,
    partition,
    kernelArgs: [],
  };
  const cfg = await replaceImageFile(host, 'boot/grub/grub.cfg', grubConfig(spec), doing);
  if (!cfg.ok) return cfg;
  const defaults = await replaceImageFile(host, GRUB_DEFAULTS.slice(1), grubDefaults(spec), doing);
  if (!defaults.ok) return defaults;
  const bootImg = await readImageFile(host, BOOT_IMG.slice(1), doing);
  if (!bootImg.ok) return bootImg;
  const coreImg = await readImageFile(host, CORE_IMG.slice(1), doing);
  if (!coreImg.ok) return coreImg;
  ctx.log(`grub.cfg: linux /boot/vmlinuz-${spec.kernelVersion} ${kernelCommandLine(spec)}`);
  return ok({ bootImg: bootImg.value, coreImg: coreImg.value, spec });
}

/**
 * Why a disk without an MBR partition table cannot be made bootable, and what to change:
 * GRUB for BIOS goes in the MBR and the gap before the first partition.
 */
export function notMbrMessage(table: 'gpt' | 'none'): string {
  const found =
    table === 'gpt'
      ? 'the disk has a GPT partition table (GRUB on a GPT disk needs a BIOS boot partition, which make-bootable does not use)'
      : 'the disk has no partition table (a file system on the whole disk leaves no room for the boot loader)';
  return [
    `an hvm image boots through BIOS from an MBR (msdos) partition table, with GRUB in the MBR and the gap before the first partition, but ${found}.`,
    'The generated answer files (no install.answerFile) and debootstrap installs make such a disk: one partition from 1 MiB.',
    'With your own install.answerFile, ask for an msdos label and a first partition at 1 MiB or later:',
    'preseed: `d-i partman-partitioning/choose_label select msdos` and `d-i partman-partitioning/default_label string msdos`;',
    'autoinstall: `ptable: msdos` on the disk in storage.config.',
  ].join(' ');
}

/**
 * The disk copied out, GRUB installed in its root partition through a chroot and its boot
 * sectors written, then what changed written into `disk`, an overlay of customize's.
 */
async function viaChroot(
  ctx: StepRunContext<MakeBootableParams>,
  disk: string,
  base: UpstreamDisk,
  tmp: string,
): Promise<Result<{ files: GrubFiles; layout: DiskLayout }, StepFailure>> {
  const done = await inRootChroot<GrubFiles, MakeBootableParams>(
    ctx,
    {
      out: disk,
      base,
      tmp,
      sandboxHint: 'make-bootable needs unshare (util-linux) and CAP_SYS_ADMIN.',
      accept: (layout) =>
        layout.table === 'mbr'
          ? undefined
          : stepFailure('guest', 'not-mbr', notMbrMessage(layout.table)),
      finish: (raw, layout, files) => writeBootSectors(ctx, raw, layout, files),
    },
    (sb, mnt, layout) => installInImage(ctx, sb, mnt, layout),
  );
  return done.ok ? ok({ files: done.value.value, layout: done.value.layout }) : done;
}

/** boot.img and core.img into the first sectors (before the first partition) of a raw disk. */
async function writeBootSectors(
  ctx: StepRunContext<MakeBootableParams>,
  raw: string,
  layout: DiskLayout,
  files: GrubFiles,
): Promise<Result<void, StepFailure>> {
  const gap = Math.min(...layout.volumes.map((v) => v.offsetBytes));
  const handle = await open(raw, 'r+');
  try {
    const head = new Uint8Array(gap);
    const { bytesRead } = await handle.read(head, 0, gap, 0);
    const embedded = embedGrub(head.subarray(0, bytesRead), files.bootImg, files.coreImg);
    if (!embedded.ok)
      return err(stepFailure('guest', 'grub-embed', describeGrubEmbedProblem(embedded.error)));
    await handle.write(embedded.value, 0, embedded.value.length, 0);
  } finally {
    await handle.close();
  }
  ctx.log(
    `boot sectors: boot.img in the MBR, core.img (${files.coreImg.length} bytes) from sector 1`,
  );
  return ok(undefined);
}

/** make-bootable: artifact `disk`; values `format`, `sizeBytes`, `kernelVersion`, `rootUuid`, `partition`. */
export const makeBootable: StepKind<MakeBootableParams, 'make-bootable'> = {
  kind: 'make-bootable',
  tools: ['qemu-img', 'chroot', 'mount'],
  describe(step) {
    const k = step.params.kernel;
    return {
      summary: `install GRUB for BIOS from the image's grub-pc, booting ${k === 'newest' ? 'the newest kernel' : `kernel ${k}`} with the console on tty0 and ttyS0`,
      commands: [
        'qemu-img convert -f qcow2 -O raw <customize>/disk.qcow2 <tmp>/disk.raw',
        'mount -o loop,offset=<root>,sizelimit=<size> <tmp>/disk.raw <tmp>/root (+ proc, sys, dev)',
        `chroot <tmp>/root /bin/sh /${SCRIPT} (grub-mkimage -O i386-pc -o ${CORE_IMG} …)`,
        'write /boot/grub/grub.cfg and /etc/default/grub.d/emi-recipe.cfg',
        'boot.img into the MBR (partition table kept), core.img from sector 1',
        'qemu-img create -f qcow2 -b <tmp>/disk.raw -F raw <out>/disk.qcow2, then qemu-img rebase -b <customize>/disk.qcow2 -F qcow2 (only what changed goes into the overlay; a raw disk: the copy itself)',
      ],
      effects: [],
      notes: ['runs as root (chroot); the image is not booted here (boot-test does)'],
    };
  },
  async run(ctx): Promise<Result<StepOutputs, StepFailure>> {
    if (process.getuid?.() !== 0)
      return err(
        stepFailure(
          'host',
          'needs-root',
          'make-bootable installs GRUB through a chroot and needs root: run emi-recipe as root (sudo).',
        ),
      );
    const base = upstreamDisk(ctx);
    if (!base.ok) return base;
    const file = diskFileName(base.value.format);
    const disk = join(ctx.outDir, file);
    const scratch = await scratchDir(ctx);
    try {
      const tmp = await mkdtemp(join(scratch.dir, 'b-'));
      const installed = await viaChroot(ctx, disk, base.value, tmp);
      if (!installed.ok) return installed;
      const { spec } = installed.value.files;
      return ok({
        artifacts: { disk: file },
        values: {
          format: base.value.format,
          sizeBytes: base.value.sizeBytes,
          kernelVersion: spec.kernelVersion,
          rootUuid: spec.rootUuid,
          partition: spec.partition,
        },
      });
    } catch (error) {
      // A full or read-only scratch or work directory; anything else is a bug (rethrown).
      return err(
        fsStepFailureOrRethrow(error, {
          doing: 'making the disk bootable',
          fallbackPath: ctx.workDir,
        }),
      );
    } finally {
      await scratch.remove();
    }
  },
};
