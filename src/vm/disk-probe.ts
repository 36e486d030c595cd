// Finds the root file system of a disk image of any format: reads the partition table
// and each partition's first bytes through qemu-img (no mount, no VM), then picks the
// root (guest/disk-layout.ts). Writes only small temp files under `tmpDir`.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { StepFailure } from '../plan/step.js';
import type { Exec } from '../tools/exec.js';
import {
  copyRangeOutArgs,
  runQemuImg,
  type DiskFormat,
  type DiskRange,
} from '../tools/qemu-img.js';
import {
  chooseRootVolume,
  identifyFileSystem,
  parsePartitionTable,
  SIGNATURE_BYTES,
  TABLE_BYTES,
  type PartitionTable,
  type Volume,
} from '../guest/disk-layout.js';
import { stepFailure, toolStepFailure } from '../plan/step-failure.js';

export interface DiskLayout {
  readonly table: PartitionTable['kind'];
  readonly volumes: readonly Volume[];
  readonly root: Volume;
}

/** Reads `length` bytes at `offset` of a disk (qemu-img convert of a raw window). */
async function readBytes(
  exec: Exec,
  ctx: TaskContext,
  options: { disk: string; format: DiskFormat; offset: number; length: number; tmp: string },
): Promise<Result<Uint8Array, ToolFailure>> {
  const to = join(options.tmp, `bytes-${options.offset}`);
  const range: DiskRange = {
    path: options.disk,
    format: options.format,
    offsetBytes: options.offset,
    sizeBytes: options.length,
  };
  const r = await runQemuImg(exec, ctx, copyRangeOutArgs({ from: range, to, toFormat: 'raw' }));
  if (!r.ok) return r;
  return ok(new Uint8Array(await readFile(to)));
}

/**
 * The disk's partitions, what each holds, and the root. Fails with a clear message
 * when no partition holds a Linux file system.
 */
export async function probeDisk(
  exec: Exec,
  ctx: TaskContext,
  options: {
    readonly disk: string;
    readonly format: DiskFormat;
    readonly sizeBytes: number;
    readonly tmpDir: string;
  },
): Promise<Result<DiskLayout, StepFailure>> {
  const tmp = await mkdtemp(join(options.tmpDir, 'probe-'));
  try {
    const read = (offset: number, length: number) =>
      readBytes(exec, ctx, { disk: options.disk, format: options.format, offset, length, tmp });
    const head = await read(0, Math.min(TABLE_BYTES, options.sizeBytes));
    if (!head.ok) return err(toolStepFailure(head.error, 'reading the partition table'));
    const table = parsePartitionTable(head.value);
    const candidates =
      table.kind === 'none'
        ? [{ number: 0, offsetBytes: 0, sizeBytes: options.sizeBytes }]
        : table.partitions.filter((p) => p.offsetBytes + SIGNATURE_BYTES <= options.sizeBytes);
    const volumes: Volume[] = [];
    for (const p of candidates) {
      const bytes = await read(p.offsetBytes, Math.min(SIGNATURE_BYTES, p.sizeBytes));
      if (!bytes.ok) return err(toolStepFailure(bytes.error, `reading partition ${p.number}`));
      volumes.push({
        number: p.number,
        offsetBytes: p.offsetBytes,
        sizeBytes: p.sizeBytes,
        fs: identifyFileSystem(bytes.value),
      });
    }
    const root = chooseRootVolume(volumes);
    if (!root) {
      const found = volumes
        .map((v) => `${v.number === 0 ? 'whole disk' : `partition ${v.number}`}: ${v.fs.kind}`)
        .join(', ');
      return err(
        stepFailure(
          'guest',
          'no-root-filesystem',
          `no Linux root file system found on the disk (${table.kind} partition table; ${found || 'no partitions'}). ` +
            'The install did not write one: check logs/install.log and the answer file.',
        ),
      );
    }
    return ok({ table: table.kind, volumes, root });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
