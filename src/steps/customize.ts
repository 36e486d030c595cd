// The customize step: a copy-on-write overlay of install-os's disk, changed offline by
// one script (guest/customize-script.ts). As root: the disk is copied out to a raw file, its
// root partition loop-mounted and changed in a chroot, and what changed written into the
// overlay (fast; steps/root-chroot.ts).
// Without root: virt-customize runs the same script in libguestfs's appliance.
// Never boots the image; install-os's disk is never written.
import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { containedDir, removeContained, writeContained } from '../core/contained-path.js';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type {
  HostFacts,
  StepFailure,
  StepKind,
  StepOutputs,
  StepRunContext,
  StepSpec,
} from '../plan/step.js';
import type { CustomizeParams } from '../plan/step-params.js';
import { formatCommand } from '../tools/exec.js';
import { planCommand } from './plan-command.js';
import { virtCustomizeArgs, runVirtCustomize } from '../tools/guestfs.js';
import { guestfsEnv } from '../tools/qemu.js';
import { createOverlayArgs, rebaseArgs } from '../tools/qemu-img.js';
import { chrootArgs, runChroot } from '../tools/chroot.js';
import { unsafeImageFailure } from '../vm/chroot-session.js';
import { inRootChroot } from './root-chroot.js';
import {
  customizeScript,
  packagesToInstall,
  STAGE_DIR,
  stagedFile,
} from '../guest/customize-script.js';
import { deriveDisk } from './disk-write.js';
import { fsStepFailureOrRethrow, toolStepFailure } from '../plan/step-failure.js';
import { diskFileName, scratchDir, upstreamDisk, type UpstreamDisk } from './upstream.js';

/** How the script runs: 'chroot' (root, fast) or 'guestfs' (any user). */
export type CustomizeMethod = 'chroot' | 'guestfs';

/** The method for this process: chroot when root, unless EMI_RECIPE_CUSTOMIZE=guestfs asks otherwise. */
export function customizeMethod(
  isRoot: boolean,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CustomizeMethod {
  if (env.EMI_RECIPE_CUSTOMIZE === 'guestfs') return 'guestfs';
  return isRoot ? 'chroot' : 'guestfs';
}

function summary(p: CustomizeParams): string {
  const parts: string[] = [];
  const packages = packagesToInstall(p);
  if (packages.length > 0) parts.push(`install ${packages.join(', ')}`);
  if (p.users.length > 0)
    parts.push(`add user${p.users.length > 1 ? 's' : ''} ${p.users.map((u) => u.name).join(', ')}`);
  if (p.files.length > 0)
    parts.push(`write ${p.files.length} file${p.files.length > 1 ? 's' : ''}`);
  if (p.remove.length > 0) parts.push(`remove ${p.remove.join(', ')}`);
  if (p.rcLocal) parts.push('install /etc/rc.local');
  if (p.commands.length > 0)
    parts.push(`run ${p.commands.length} command${p.commands.length > 1 ? 's' : ''}`);
  return parts.length > 0
    ? `customize offline: ${parts.join('; ')}`
    : 'customize offline: image hygiene only';
}

function describe(step: StepSpec<CustomizeParams>, facts: HostFacts) {
  const method = customizeMethod(facts.isRoot);
  const overlay = planCommand(
    'qemu-img',
    createOverlayArgs({
      path: '<out>/disk.qcow2',
      backingPath: '<install-os>/disk.qcow2',
      backingFormat: 'qcow2',
    }),
  );
  const commands =
    method === 'chroot'
      ? [
          'qemu-img convert -f qcow2 -O raw <install-os>/disk.qcow2 <tmp>/disk.raw',
          'unshare --mount --pid (a private namespace, undone if emi-recipe dies)',
          'mount -o loop,offset=<root>,sizelimit=<size> <tmp>/disk.raw <tmp>/root (+ proc, sys, dev)',
          planCommand('chroot', chrootArgs('<tmp>/root', ['/bin/sh', `${STAGE_DIR}/customize.sh`])),
          planCommand(
            'qemu-img',
            createOverlayArgs({
              path: '<out>/disk.qcow2',
              backingPath: '<tmp>/disk.raw',
              backingFormat: 'raw',
            }),
          ),
          `${planCommand('qemu-img', rebaseArgs({ path: '<out>/disk.qcow2', backingPath: '<install-os>/disk.qcow2', backingFormat: 'qcow2', direct: true }))} (only what changed goes into the overlay)`,
        ]
      : [
          overlay,
          planCommand(
            'virt-customize',
            virtCustomizeArgs({
              disk: '<out>/disk.qcow2',
              format: 'qcow2',
              mkdirs: [STAGE_DIR],
              uploads: [],
              script: '<tmp>/customize.sh',
              memoryMiB: 1024,
            }),
          ),
        ];
  const notes = [
    method === 'chroot'
      ? 'method: chroot (running as root)'
      : `method: libguestfs (virt-customize), accelerator: ${facts.accel}`,
    'changes the install only through an overlay: changing customize never re-runs install-os',
  ];
  return { summary: summary(step.params), commands, effects: [], notes };
}

/** Copies the input files (customize.files[].source) into `dir` as files-<index>, never over anything. */
async function stageInputs(
  ctx: StepRunContext<CustomizeParams>,
  dir: string,
): Promise<[string, string][]> {
  const uploads: [string, string][] = [];
  await mkdir(dir, { recursive: true });
  for (const [index, file] of ctx.step.params.files.entries()) {
    if (file.content !== null) continue;
    const input = ctx.step.inputs.find((i) => i.name === `files[${index}]`);
    if (!input) throw new Error(`customize: input files[${index}] missing from the step spec`);
    const to = join(dir, `files-${index}`);
    // COPYFILE_EXCL: O_EXCL, so a link already at `to` is refused, never followed.
    await copyFile(input.path, to, constants.COPYFILE_EXCL);
    uploads.push([to, stagedFile(index)]);
  }
  return uploads;
}

/**
 * Stages the script and the input files in the mounted image at STAGE_DIR, through
 * `host` (the mount point as the host reaches it), refusing links inside the image.
 */
async function stageInImage(
  ctx: StepRunContext<CustomizeParams>,
  host: string,
): Promise<Result<void, StepFailure>> {
  const doing = `staging files in the image at ${STAGE_DIR}`;
  const cleared = await removeContained(host, STAGE_DIR);
  if (!cleared.ok) return err(unsafeImageFailure(cleared.error, doing));
  const dir = await containedDir(host, STAGE_DIR, { create: true });
  if (!dir.ok) return err(unsafeImageFailure(dir.error, doing));
  await stageInputs(ctx, dir.value);
  const script = await writeContained(
    host,
    `${STAGE_DIR}/customize.sh`,
    customizeScript(ctx.step.params),
    0o755,
  );
  return script.ok ? ok(undefined) : err(unsafeImageFailure(script.error, doing));
}

/** The chroot way: the staged script run in the image's root partition (steps/root-chroot.ts). */
async function viaChroot(
  ctx: StepRunContext<CustomizeParams>,
  disk: string,
  base: UpstreamDisk,
  tmp: string,
): Promise<Result<void, StepFailure>> {
  const done = await inRootChroot(
    ctx,
    {
      out: disk,
      base,
      tmp,
      sandboxHint:
        'Customizing as root needs unshare (util-linux) and CAP_SYS_ADMIN; otherwise set EMI_RECIPE_CUSTOMIZE=guestfs.',
    },
    async (sb, mnt) => {
      const staged = await stageInImage(ctx, sb.hostPath(mnt));
      if (!staged.ok) return staged;
      const r = await runChroot(sb.exec, ctx, {
        root: mnt,
        command: ['/bin/sh', `${STAGE_DIR}/customize.sh`],
        onLine: ctx.log,
      });
      return r.ok
        ? ok(undefined)
        : err(
            toolStepFailure(
              r.error,
              'customizing in a chroot',
              'The lines above come from the customize script; fix the package names, users or commands in customize.',
            ),
          );
    },
  );
  return done.ok ? ok(undefined) : done;
}

async function viaGuestfs(
  ctx: StepRunContext<CustomizeParams>,
  disk: string,
  base: UpstreamDisk,
  tmp: string,
): Promise<Result<void, StepFailure>> {
  const made = await deriveDisk(ctx, base, disk);
  if (!made.ok) return made;
  const script = join(tmp, 'customize.sh');
  await writeFile(script, customizeScript(ctx.step.params), { mode: 0o755 });
  const uploads = await stageInputs(ctx, join(tmp, 'stage'));
  const accel = await ctx.accel();
  const options = {
    disk,
    format: base.format,
    mkdirs: [STAGE_DIR],
    uploads,
    script,
    memoryMiB: 1024,
  };
  ctx.log(`accelerator for libguestfs: ${accel}`);
  ctx.log(`$ ${formatCommand('virt-customize', virtCustomizeArgs(options))}`);
  const r = await runVirtCustomize(ctx.exec, ctx, {
    ...options,
    env: guestfsEnv(accel),
    onLine: ctx.log,
  });
  return r.ok
    ? ok(undefined)
    : err(
        toolStepFailure(
          r.error,
          'customizing with virt-customize',
          'The lines above come from libguestfs and the customize script; run `emi-recipe doctor` to check libguestfs.',
        ),
      );
}

/** customize: artifact `disk` (an overlay of install-os's); values `format`, `sizeBytes`, `method`. */
export const customize: StepKind<CustomizeParams, 'customize'> = {
  kind: 'customize',
  tools: ['qemu-img', 'virt-customize', 'chroot', 'mount'],
  typicalMs: 5_000,
  describe,
  async run(ctx): Promise<Result<StepOutputs, StepFailure>> {
    const base = upstreamDisk(ctx);
    if (!base.ok) return base;
    const file = diskFileName(base.value.format);
    const disk = join(ctx.outDir, file);
    const scratch = await scratchDir(ctx);
    const method = customizeMethod(process.getuid?.() === 0);
    ctx.log(`method: ${method}`);
    try {
      const tmp = await mkdtemp(join(scratch.dir, 'c-'));
      const r =
        method === 'chroot'
          ? await viaChroot(ctx, disk, base.value, tmp)
          : await viaGuestfs(ctx, disk, base.value, tmp);
      if (!r.ok) return r;
    } catch (error) {
      // A full or read-only scratch or work directory; anything else is a bug (rethrown).
      return err(
        fsStepFailureOrRethrow(error, { doing: 'customizing', fallbackPath: ctx.workDir }),
      );
    } finally {
      await scratch.remove();
    }
    return ok({
      artifacts: { disk: file },
      values: { format: base.value.format, sizeBytes: base.value.sizeBytes, method },
    });
  },
};
