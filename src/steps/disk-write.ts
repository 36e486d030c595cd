// Making a step's own disk from the one before it (a qcow2 overlay, or a sparse copy
// for raw), and writing raw bytes into it at a partition's place, through qemu-img.
import { rename, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import type { Exec } from '../tools/exec.js';
import {
  convertArgs,
  copyRangeInArgs,
  copyRangeOutArgs,
  createOverlayArgs,
  rebaseArgs,
  runQemuImg,
  type DiskRange,
} from '../tools/qemu-img.js';
import { toolStepFailure } from '../plan/step-failure.js';
import type { UpstreamDisk } from './upstream.js';

/**
 * The backing path an overlay at `out` stores for `base`: relative to the overlay's directory,
 * which QEMU resolves it from. A step's directory and its needs' are siblings under the work
 * directory (a step runs in one beside its final one), so the overlay stays valid where
 * another runner, whose work directory is elsewhere, downloads the chain from the step cache.
 */
export const backingPathFor = (out: string, base: string): string =>
  relative(dirname(resolve(out)), resolve(base));

/**
 * A new disk at `out` with `base`'s content: a qcow2 overlay whose backing file is
 * `base` (backingPathFor), or for raw disks a sparse copy.
 */
export async function deriveDisk<P>(
  ctx: StepRunContext<P>,
  base: UpstreamDisk,
  out: string,
): Promise<Result<void, StepFailure>> {
  const args =
    base.format === 'qcow2'
      ? createOverlayArgs({
          path: out,
          backingPath: backingPathFor(out, base.path),
          backingFormat: 'qcow2',
        })
      : convertArgs({ from: base.path, fromFormat: 'raw', to: out, toFormat: 'raw' });
  const r = await runQemuImg(ctx.exec, ctx, args, 'copying the disk');
  return r.ok
    ? ok(undefined)
    : err(toolStepFailure(r.error, "creating the disk from the previous step's"));
}

/** Writes the whole of `raw` into an overlay of `base` created at `out` (offset 0). */
export async function convertIntoOverlay<P>(
  ctx: StepRunContext<P>,
  options: { readonly raw: string; readonly base: UpstreamDisk; readonly out: string },
): Promise<Result<void, StepFailure>> {
  const made = await deriveDisk(ctx, options.base, options.out);
  if (!made.ok) return made;
  const size = (await stat(options.raw)).size;
  return writeRange(ctx, options.raw, {
    path: options.out,
    format: options.base.format,
    offsetBytes: 0,
    sizeBytes: size,
  });
}

/** Writes the raw file `from` into `to` (whose size must equal the file's). */
export async function writeRange<P>(
  ctx: StepRunContext<P>,
  from: string,
  to: DiskRange,
): Promise<Result<void, StepFailure>> {
  const r = await runQemuImg(ctx.exec, ctx, copyRangeInArgs({ from, to }), 'writing the disk');
  return r.ok ? ok(undefined) : err(toolStepFailure(r.error, 'writing into the disk'));
}

/** What copying and writing disks needs from a step's context. */
export type DiskContext = TaskContext & { readonly exec: Exec };

/** A disk file and its format. */
export type DiskFile = Pick<UpstreamDisk, 'path' | 'format'>;

/** Copies a whole disk, of any format, into a new sparse raw file. */
export async function copyDiskToRaw(
  ctx: DiskContext,
  from: DiskFile,
  to: string,
): Promise<Result<void, StepFailure>> {
  const args = convertArgs({ from: from.path, fromFormat: from.format, to, toFormat: 'raw' });
  const r = await runQemuImg(ctx.exec, ctx, args, 'copying the disk');
  return r.ok ? ok(undefined) : err(toolStepFailure(r.error, 'copying the disk to a raw file'));
}

/**
 * Makes `out` (which must not exist) hold what `raw` holds: `raw` is a raw copy of `base`,
 * changed. A raw base: `raw` itself, moved into place. A qcow2 base: an overlay of it with
 * only the clusters that differ. The overlay is made on `raw`, then rebased onto `base` by
 * `qemu-img rebase`, which reads both and writes into the overlay just what differs — a
 * package installed adds megabytes, not the whole partition written back.
 */
export async function writeChangedDisk(
  ctx: DiskContext,
  options: { readonly raw: string; readonly base: DiskFile; readonly out: string },
): Promise<Result<void, StepFailure>> {
  const { raw, base, out } = options;
  if (base.format === 'raw') {
    const moved = await moveFile(raw, out);
    if (moved) return ok(undefined);
    const r = await runQemuImg(
      ctx.exec,
      ctx,
      convertArgs({ from: raw, fromFormat: 'raw', to: out, toFormat: 'raw' }),
      'writing the disk',
    );
    return r.ok ? ok(undefined) : err(toolStepFailure(r.error, 'writing the disk'));
  }
  const made = await runQemuImg(
    ctx.exec,
    ctx,
    // By absolute path: a relative backing path would be read from the overlay's directory.
    createOverlayArgs({ path: out, backingPath: resolve(raw), backingFormat: 'raw' }),
  );
  if (!made.ok) return err(toolStepFailure(made.error, 'creating the disk'));
  const rebase = (direct: boolean) =>
    runQemuImg(
      ctx.exec,
      ctx,
      rebaseArgs({
        path: out,
        backingPath: backingPathFor(out, base.path),
        backingFormat: base.format,
        direct,
      }),
      'writing the changes',
    );
  let r = await rebase(true);
  if (!r.ok && !ctx.signal.aborted) {
    // A file system without O_DIRECT (tmpfs before Linux 6.6) refuses cache mode none. A
    // rebase cut short leaves the overlay's content unchanged, so it can run again.
    ctx.log('qemu-img rebase with O_DIRECT failed; once more through the page cache');
    r = await rebase(false);
  }
  return r.ok
    ? ok(undefined)
    : err(
        toolStepFailure(
          r.error,
          "writing what changed into an overlay of the previous step's disk",
        ),
      );
}

/** Renames `from` to `to`; false when they are on different file systems (nothing moved). */
async function moveFile(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EXDEV') return false;
    throw error;
  }
}

/** Copies a byte range of a disk (a partition) into a new sparse raw file. */
export async function readRange<P>(
  ctx: StepRunContext<P>,
  from: DiskRange,
  to: string,
): Promise<Result<void, StepFailure>> {
  const r = await runQemuImg(
    ctx.exec,
    ctx,
    copyRangeOutArgs({ from, to, toFormat: 'raw' }),
    'copying the partition',
  );
  return r.ok
    ? ok(undefined)
    : err(toolStepFailure(r.error, 'copying the root partition out of the disk'));
}
