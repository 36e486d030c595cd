// Making a step's own disk from the one before it (a qcow2 overlay, or a sparse copy
// for raw), and writing raw bytes into it at a partition's place, through qemu-img.
import { stat } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import {
  convertArgs,
  copyRangeInArgs,
  copyRangeOutArgs,
  createOverlayArgs,
  runQemuImg,
  type DiskRange,
} from '../tools/qemu-img.js';
import { toolStepFailure } from '../plan/step-failure.js';
import type { UpstreamDisk } from './upstream.js';

/**
 * A new disk at `out` with `base`'s content: a qcow2 overlay whose backing file is
 * `base` (by absolute path: it lives in another step's final directory), or for raw
 * disks a sparse copy.
 */
export async function deriveDisk<P>(
  ctx: StepRunContext<P>,
  base: UpstreamDisk,
  out: string,
): Promise<Result<void, StepFailure>> {
  const args =
    base.format === 'qcow2'
      ? createOverlayArgs({ path: out, backingPath: base.path, backingFormat: 'qcow2' })
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
