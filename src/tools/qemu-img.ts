// qemu-img: create disks and overlays, convert formats, copy byte ranges in and out of
// a disk of any format (a partition cut out of a qcow2). Pure argv builders + parsers,
// and one exec call per operation. Never reads or writes disks itself.
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec } from './exec.js';

export type DiskFormat = 'qcow2' | 'raw';

/** A byte range of a disk image: a partition, or the whole disk when `offset` is 0 and `size` null. */
export interface DiskRange {
  readonly path: string;
  readonly format: DiskFormat;
  readonly offsetBytes: number;
  /** null: to the end of the disk. */
  readonly sizeBytes: number | null;
}

/** `qemu-img create -f FORMAT PATH SIZE`: an empty disk of exactly `sizeBytes`. */
export function createArgs(options: {
  readonly path: string;
  readonly format: DiskFormat;
  readonly sizeBytes: number;
}): string[] {
  return ['create', '-q', '-f', options.format, options.path, String(options.sizeBytes)];
}

/**
 * A qcow2 overlay whose reads fall through to `backingPath` until written. The
 * backing path is stored as given: pass it relative to the overlay's directory, or
 * absolute into a directory that never moves (another step's final directory).
 */
export function createOverlayArgs(options: {
  readonly path: string;
  readonly backingPath: string;
  readonly backingFormat: DiskFormat;
}): string[] {
  return [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    options.backingPath,
    '-F',
    options.backingFormat,
    options.path,
  ];
}

/** A `--image-opts` description of a byte range (qemu's raw driver with offset and size). */
export function rangeImageOpts(range: DiskRange): string {
  // Commas inside option values are doubled in QEMU's option syntax.
  const file = range.path.replace(/,/g, ',,');
  const parts = ['driver=raw', `offset=${range.offsetBytes}`];
  if (range.sizeBytes !== null) parts.push(`size=${range.sizeBytes}`);
  if (range.format === 'raw') parts.push('file.driver=file', `file.filename=${file}`);
  else parts.push('file.driver=qcow2', 'file.file.driver=file', `file.file.filename=${file}`);
  return parts.join(',');
}

/**
 * Copies a byte range out of a disk into a new sparse file (`-O raw` or qcow2): how a
 * partition is cut out of a disk without mounting anything.
 */
export function copyRangeOutArgs(options: {
  readonly from: DiskRange;
  readonly to: string;
  readonly toFormat: DiskFormat;
}): string[] {
  return [
    'convert',
    '-p',
    '--image-opts',
    rangeImageOpts(options.from),
    '-O',
    options.toFormat,
    options.to,
  ];
}

/**
 * Writes a whole raw file into an existing disk at a byte range (`convert -n` into
 * the raw driver's window). The range's size must equal the file's size.
 */
export function copyRangeInArgs(options: {
  readonly from: string;
  readonly to: DiskRange;
}): string[] {
  return [
    'convert',
    '-p',
    '-n',
    '-f',
    'raw',
    options.from,
    '--target-image-opts',
    rangeImageOpts(options.to),
  ];
}

/**
 * Points the overlay at `path` to a new backing file, first writing into it every cluster
 * where its old backing and the new one differ (so its content does not change): `qemu-img
 * rebase` in its safe mode, which reads both backing files whole. `direct`: with O_DIRECT
 * (cache mode none), so that reading a sparse raw backing file's holes does not fill the page
 * cache with zeroed pages (seconds of kernel time for a 2 GiB disk just written).
 */
export function rebaseArgs(options: {
  readonly path: string;
  readonly backingPath: string;
  readonly backingFormat: DiskFormat;
  readonly direct?: boolean;
}): string[] {
  return [
    'rebase',
    '-p',
    ...(options.direct === true ? ['-t', 'none', '-T', 'none'] : []),
    '-f',
    'qcow2',
    '-b',
    options.backingPath,
    '-F',
    options.backingFormat,
    options.path,
  ];
}

/** Converts a whole disk from one format to another (sparse output). */
export function convertArgs(options: {
  readonly from: string;
  readonly fromFormat: DiskFormat;
  readonly to: string;
  readonly toFormat: DiskFormat;
}): string[] {
  return [
    'convert',
    '-p',
    '-f',
    options.fromFormat,
    '-O',
    options.toFormat,
    options.from,
    options.to,
  ];
}

export function infoArgs(path: string): string[] {
  return ['info', '--output=json', '-U', path];
}

/** What `qemu-img info --output=json` says about a disk. */
export interface DiskInfo {
  readonly format: string;
  readonly virtualSizeBytes: number;
  readonly actualSizeBytes: number | null;
  readonly backingFile: string | null;
}

/** Parses `qemu-img info --output=json`; null when the text is not such a document. */
export function parseInfo(stdout: string): DiskInfo | null {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object') return null;
  const o = data as Record<string, unknown>;
  if (typeof o.format !== 'string' || typeof o['virtual-size'] !== 'number') return null;
  return {
    format: o.format,
    virtualSizeBytes: o['virtual-size'],
    actualSizeBytes: typeof o['actual-size'] === 'number' ? o['actual-size'] : null,
    backingFile: typeof o['backing-filename'] === 'string' ? o['backing-filename'] : null,
  };
}

/** `qemu-img -p` prints "    (12.34/100%)"; returns the percentage, or null. */
export function parseProgress(line: string): number | null {
  const match = /\((\d+(?:\.\d+)?)\/100%\)/.exec(line);
  return match ? Number(match[1]) : null;
}

/** Runs qemu-img with `args`, reporting its progress. */
export async function runQemuImg(
  exec: Exec,
  ctx: TaskContext,
  args: readonly string[],
  message?: string,
): Promise<Result<string, ToolFailure>> {
  ctx.log(`$ qemu-img ${args.join(' ')}`);
  const r = await exec('qemu-img', args, {
    signal: ctx.signal,
    onLine: (line) => {
      // -p writes carriage-return separated updates; readline sees them as one line.
      const all = line
        .split('\r')
        .map(parseProgress)
        .filter((p) => p !== null);
      const last = all.at(-1);
      if (last !== undefined)
        ctx.progress({ done: last, total: 100, unit: 'percent', ...(message ? { message } : {}) });
    },
  });
  return r.ok ? ok(r.value.stdout) : err(r.error);
}

/** `qemu-img info` of a disk. */
export async function diskInfo(
  exec: Exec,
  ctx: TaskContext,
  path: string,
): Promise<
  Result<DiskInfo, ToolFailure | { readonly reason: 'unparsable'; readonly output: string }>
> {
  const r = await exec('qemu-img', infoArgs(path), { signal: ctx.signal });
  if (!r.ok) return r;
  const info = parseInfo(r.value.stdout);
  return info ? ok(info) : err({ reason: 'unparsable', output: r.value.stdout.slice(0, 500) });
}
