// The root partition of a disk, worked on as root in a chroot: the disk copied out whole to a
// sparse raw file with qemu-img, its root partition loop-mounted (offset and size) in a
// namespace sandbox (if emi-recipe dies, even by SIGKILL, the kernel kills what runs in the
// image and undoes the mounts: tools/namespace.ts), the chroot's pseudo file systems around
// `work`, unmounted, and only once cleanly unmounted made the step's disk: for qcow2 an
// overlay of the upstream disk holding only the clusters that changed (steps/disk-write.ts).
// customize and make-bootable both go this way.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import { toolStepFailure } from '../plan/step-failure.js';
import { runMount } from '../tools/mount.js';
import { openSandbox, type Sandbox } from '../tools/namespace.js';
import { unmountBelow, withChrootMounts } from '../vm/chroot-session.js';
import { probeDisk, type DiskLayout } from '../vm/disk-probe.js';
import { copyDiskToRaw, writeChangedDisk } from './disk-write.js';
import type { UpstreamDisk } from './upstream.js';

export interface RootChrootOptions<T> {
  /** Where the changed disk goes (it must not exist yet), in `base`'s format. */
  readonly out: string;
  readonly base: UpstreamDisk;
  /** Scratch space for the disk's raw copy and the mount point. */
  readonly tmp: string;
  /** The last sentence when no sandbox can be made (what the step needs, or its way around). */
  readonly sandboxHint: string;
  /** A refusal of the disk's layout before anything is copied (undefined: go on). */
  readonly accept?: (layout: DiskLayout) => StepFailure | undefined;
  /**
   * Last changes to the whole disk, a raw file, once the root file system is unmounted and
   * before `out` is made (make-bootable writes the boot sectors here).
   */
  readonly finish?: (
    raw: string,
    layout: DiskLayout,
    value: T,
  ) => Promise<Result<void, StepFailure>>;
}

/** Runs `work` with the root partition mounted at `mnt` (a path inside `sandbox`). */
export async function inRootChroot<T, P>(
  ctx: StepRunContext<P>,
  o: RootChrootOptions<T>,
  work: (sandbox: Sandbox, mnt: string, layout: DiskLayout) => Promise<Result<T, StepFailure>>,
): Promise<Result<{ value: T; layout: DiskLayout }, StepFailure>> {
  const layout = await probeDisk(ctx.exec, ctx, {
    disk: o.base.path,
    format: o.base.format,
    sizeBytes: o.base.sizeBytes,
    tmpDir: o.tmp,
  });
  if (!layout.ok) return layout;
  const refused = o.accept?.(layout.value);
  if (refused) return err(refused);
  const root = layout.value.root;
  const raw = join(o.tmp, 'disk.raw');
  const copied = await copyDiskToRaw(ctx, o.base, raw);
  if (!copied.ok) return copied;
  const mnt = join(o.tmp, 'root');
  await mkdir(mnt);
  const sandbox = await openSandbox(ctx.exec, ctx);
  if (!sandbox.ok)
    return err(
      toolStepFailure(
        sandbox.error,
        'creating a private mount and PID namespace for the chroot',
        o.sandboxHint,
      ),
    );
  const sb = sandbox.value;
  let value: T;
  try {
    const mounted = await runMount(
      sb.exec,
      ctx,
      { kind: 'loop', image: raw, offsetBytes: root.offsetBytes, sizeBytes: root.sizeBytes },
      mnt,
    );
    if (!mounted.ok)
      return err(toolStepFailure(mounted.error, 'loop-mounting the root file system'));
    const ran = await withChrootMounts(ctx, sb, mnt, () => work(sb, mnt, layout.value));
    const unmounted = await unmountBelow(ctx, sb, mnt, { includeRoot: true });
    if (!ran.ok) return ran;
    // The image is copied back only once it is cleanly unmounted.
    if (!unmounted.ok) return unmounted;
    value = ran.value;
  } finally {
    await sb.close();
  }
  const finished = (await o.finish?.(raw, layout.value, value)) ?? ok(undefined);
  if (!finished.ok) return finished;
  const made = await writeChangedDisk(ctx, { raw, base: o.base, out: o.out });
  return made.ok ? ok({ value, layout: layout.value }) : made;
}
