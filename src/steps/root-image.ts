// The root file system of an upstream disk as a raw image file, cut out with qemu-img
// (no mount, no root needed), and files read out of it with debugfs. Shared by the
// extract steps.
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import type { Exec } from '../tools/exec.js';
import {
  debugfsArgs,
  debugfsRequest,
  isRegularMode,
  isSymlinkMode,
  parseDebugfsLs,
  quoteDebugfsArg,
  runE2fs,
} from '../tools/e2fs.js';
import { probeDisk } from '../vm/disk-probe.js';
import type { FileSystemId } from '../guest/disk-layout.js';
import { readRange } from './disk-write.js';
import { stepFailure, toolStepFailure } from '../plan/step-failure.js';
import { upstreamDisk } from './upstream.js';

export interface RootImage {
  /** A raw file holding exactly the root partition. */
  readonly image: string;
  readonly fs: FileSystemId;
  readonly sizeBytes: number;
}

/** Copies the upstream disk's root partition to `to`; only ext2/3/4 are supported. */
export async function cutRootImage<P>(
  ctx: StepRunContext<P>,
  to: string,
  tmpDir: string,
): Promise<Result<RootImage, StepFailure>> {
  const disk = upstreamDisk(ctx);
  if (!disk.ok) return disk;
  const layout = await probeDisk(ctx.exec, ctx, {
    disk: disk.value.path,
    format: disk.value.format,
    sizeBytes: disk.value.sizeBytes,
    tmpDir,
  });
  if (!layout.ok) return layout;
  const root = layout.value.root;
  if (!['ext2', 'ext3', 'ext4'].includes(root.fs.kind))
    return err(
      stepFailure(
        'guest',
        'unsupported-filesystem',
        `the root file system (partition ${root.number}) is ${root.fs.kind}; extraction without mounting supports ext2, ext3 and ext4. Make the installer use ext4 for / (the generated answer files do; check install.answerFile).`,
      ),
    );
  ctx.log(
    `root file system: partition ${root.number}, ${root.fs.kind}, ${root.sizeBytes} bytes at ${root.offsetBytes}${root.fs.label ? `, label ${root.fs.label}` : ''}`,
  );
  const copied = await readRange(
    ctx,
    {
      path: disk.value.path,
      format: disk.value.format,
      offsetBytes: root.offsetBytes,
      sizeBytes: root.sizeBytes,
    },
    to,
  );
  if (!copied.ok) return copied;
  return ok({ image: to, fs: root.fs, sizeBytes: root.sizeBytes });
}

/** What reading an image with debugfs needs from a step's context. */
export type DebugfsContext = TaskContext & { readonly exec: Exec };

/** Names of the regular files and symlinks in /boot of an ext image. */
export async function listBoot(
  ctx: DebugfsContext,
  image: string,
): Promise<Result<string[], StepFailure>> {
  const r = await runE2fs(ctx.exec, ctx, 'debugfs', debugfsArgs(image, 'ls -p /boot'));
  if (!r.ok)
    return err(
      toolStepFailure(
        r.error,
        'listing /boot in the image',
        'The image has no /boot directory on its root file system (a separate /boot partition is not supported).',
      ),
    );
  const names: string[] = [];
  for (const entry of parseDebugfsLs(r.value.stdout)) {
    if (!isRegularMode(entry.mode) && !isSymlinkMode(entry.mode)) continue;
    // A name that cannot be passed to debugfs safely is never chosen (it could not be
    // copied out anyway): names come from the image, which the recipe does not control.
    const quoted = quoteDebugfsArg(`/boot/${entry.name}`);
    if (quoted.ok) names.push(entry.name);
    else ctx.log(`ignoring /boot/${JSON.stringify(entry.name)}: ${quoted.error.detail}`);
  }
  return ok(names);
}

/** Copies one file out of an ext image (debugfs dump; follows no symlink). */
export async function dumpFile(
  ctx: DebugfsContext,
  image: string,
  from: string,
  to: string,
): Promise<Result<void, StepFailure>> {
  const request = debugfsRequest('dump', [from, to]);
  if (!request.ok)
    return err(
      stepFailure(
        'guest',
        'unsafe-file-name',
        `cannot copy ${JSON.stringify(from)} out of the image to ${JSON.stringify(to)}: ${JSON.stringify(request.error.value)} cannot be passed to debugfs safely (${request.error.detail}). Rename the file in the image, or use a work directory whose path has no such character.`,
      ),
    );
  const r = await runE2fs(ctx.exec, ctx, 'debugfs', debugfsArgs(image, request.value));
  return r.ok ? ok(undefined) : err(toolStepFailure(r.error, `copying ${from} out of the image`));
}

/** The first `n` bytes of a file (for magic numbers). */
export async function fileHead(path: string, n = 1024): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export const rootImagePath = (dir: string): string => join(dir, 'root.img');
