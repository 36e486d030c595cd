// What build steps read from the steps they need: the disk artifact of the step
// before them, and a scratch directory in the work directory. No tool calls.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { makeDirectories } from '../core/fs-failure.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import type { DiskFormat } from '../tools/qemu-img.js';
import { stepFailure } from '../plan/step-failure.js';

/** An upstream disk: its absolute path and format. */
export interface UpstreamDisk {
  readonly path: string;
  readonly format: DiskFormat;
  readonly sizeBytes: number;
  /** The upstream step's values (root partition facts, kernel versions). */
  readonly values: Readonly<Record<string, unknown>>;
}

/** File name of a disk artifact in a step's directory. */
export const diskFileName = (format: DiskFormat): string => `disk.${format}`;

/**
 * The `disk` artifact of the first needed step that has one (install-os for
 * customize, customize for the extract steps). A missing one is the runner's bug or
 * a hand-edited state: say so.
 */
export function upstreamDisk<P>(ctx: StepRunContext<P>): Result<UpstreamDisk, StepFailure> {
  for (const id of ctx.step.needs) {
    const outputs = ctx.needs.get(id);
    const file = outputs?.artifacts.disk;
    if (!outputs || file === undefined) continue;
    const format = outputs.values.format === 'raw' ? 'raw' : 'qcow2';
    const size = typeof outputs.values.sizeBytes === 'number' ? outputs.values.sizeBytes : 0;
    return ok({ path: join(outputs.dir, file), format, sizeBytes: size, values: outputs.values });
  }
  return err(
    stepFailure(
      'input',
      'missing-input',
      `step ${ctx.step.id} needs a disk from ${ctx.step.needs.join(', ') || 'an upstream step'}, but none was recorded; run the upstream steps again`,
    ),
  );
}

/**
 * A fresh scratch directory under `<workDir>/tmp/` for one run of a step, and its
 * removal. Scratch data never counts as output.
 */
export async function scratchDir<P>(
  ctx: StepRunContext<P>,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const base = join(ctx.workDir, 'tmp');
  await makeDirectories(base); // (recursive mkdir would report EROFS/ENOSPC as ENOENT)
  const dir = await mkdtemp(join(base, `${ctx.step.id}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The path of a per-step log file such as logs/install.log. */
export async function logFile<P>(ctx: StepRunContext<P>, name: string): Promise<string> {
  const dir = join(ctx.workDir, 'logs');
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
