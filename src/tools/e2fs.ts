// e2fsprogs: mke2fs (a file system filled from a directory, at an offset inside a disk
// file), e2fsck, resize2fs, debugfs (read files out of an image without mounting it).
// Pure argv builders and parsers, plus one exec call per operation.
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/**
 * `mke2fs -t ext4 -d DIR`: a file system of `sizeBytes` holding a copy of `fromDir`
 * (owners, modes, device nodes, hard links and xattrs kept when run as root), written
 * at `offsetBytes` inside `image` (an existing, large enough file). `-F` because the
 * target is a regular file. Block size 4096.
 */
export function mke2fsArgs(options: {
  readonly image: string;
  readonly fromDir: string;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly label: string;
  readonly uuid?: string;
  readonly type?: 'ext4' | 'ext3' | 'ext2';
}): string[] {
  const blocks = Math.floor(options.sizeBytes / 4096);
  return [
    '-q',
    '-F',
    '-t',
    options.type ?? 'ext4',
    '-b',
    '4096',
    '-L',
    options.label,
    ...(options.uuid ? ['-U', options.uuid] : []),
    '-E',
    `offset=${options.offsetBytes}`,
    '-d',
    options.fromDir,
    options.image,
    String(blocks),
  ];
}

/** `e2fsck -f` and a mode: 'check' never changes anything (-n), 'repair' fixes what it safely can (-p). */
export function e2fsckArgs(image: string, mode: 'check' | 'repair'): string[] {
  return ['-f', mode === 'check' ? '-n' : '-p', image];
}

/** e2fsck's exit status (a bit mask, see e2fsck(8)) in words. */
export type FsckVerdict = 'clean' | 'corrected' | 'errors-left' | 'failed';

export function fsckVerdict(exitCode: number): FsckVerdict {
  if (exitCode === 0) return 'clean';
  if ((exitCode & ~3) === 0) return 'corrected';
  if ((exitCode & 4) !== 0 && (exitCode & ~7) === 0) return 'errors-left';
  return 'failed';
}

/** `resize2fs IMAGE SIZE`: grows or shrinks to `sizeBytes` (in KiB units, as resize2fs reads "K"). */
export function resize2fsArgs(image: string, sizeBytes: number): string[] {
  return ['-p', image, `${Math.floor(sizeBytes / 1024)}K`];
}

/** `resize2fs -P`: the smallest size the file system can be shrunk to. */
export function resize2fsMinimumArgs(image: string): string[] {
  return ['-P', image];
}

/** Parses resize2fs -P ("Estimated minimum size of the filesystem: 123456") into blocks. */
export function parseMinimumBlocks(stdout: string): number | null {
  const match = /minimum size of the filesystem:\s*(\d+)/.exec(stdout);
  return match ? Number(match[1]) : null;
}

/** `dumpe2fs -h`: the superblock summary. */
export function dumpe2fsArgs(image: string): string[] {
  return ['-h', image];
}

/** Facts from `dumpe2fs -h`. */
export interface SuperblockSummary {
  readonly blockCount: number;
  readonly blockSize: number;
  readonly label: string | null;
  readonly uuid: string | null;
}

export function parseDumpe2fs(stdout: string): SuperblockSummary | null {
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout)?.[1]?.trim();
  const count = Number(field('Block count'));
  const size = Number(field('Block size'));
  if (!Number.isFinite(count) || !Number.isFinite(size) || count <= 0 || size <= 0) return null;
  const label = field('Filesystem volume name');
  const uuid = field('Filesystem UUID');
  return {
    blockCount: count,
    blockSize: size,
    label: label === undefined || label === '<none>' ? null : label,
    uuid: uuid ?? null,
  };
}

/** `debugfs -R REQUEST IMAGE` (read-only). Build REQUEST with debugfsRequest(). */
export function debugfsArgs(image: string, request: string): string[] {
  return ['-R', request, image];
}

/** Why a value cannot be one argument of a debugfs request. */
export interface DebugfsUnquotable {
  readonly reason: 'unquotable';
  readonly value: string;
  readonly detail: string;
}

/**
 * One argument of a debugfs request, double-quoted for debugfs's line parser (e2fsprogs
 * lib/ss/parse.c): inside quotes spaces, `;`, `#` and backslashes are literal and `""` is one `"`.
 * Refused: control characters (a newline or CR would let a file name found in an image
 * end the request and start another; NUL cannot be passed at all) and values that
 * debugfs would read as something else even when quoted: a leading `-` (an option to
 * the command's getopt) and `<N>` (an inode number, see debugfs/util.c string_to_inode).
 */
export function quoteDebugfsArg(value: string): Result<string, DebugfsUnquotable> {
  const refuse = (detail: string) => err({ reason: 'unquotable' as const, value, detail });
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const control = /[\u0000-\u001f\u007f]/.exec(value);
  if (control)
    return refuse(
      `it contains a control character (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`,
    );
  if (value === '') return refuse('it is empty');
  if (value.startsWith('-')) return refuse('it starts with "-" (debugfs would read an option)');
  if (/^<.*>$/.test(value))
    return refuse('it has the form <N> (debugfs would read an inode number)');
  return ok(`"${value.replaceAll('"', '""')}"`);
}

/**
 * A debugfs request: `command` (a fixed word such as `dump` or `ls -p`, never data)
 * followed by `args`, each quoted with quoteDebugfsArg(). The first argument that
 * cannot be quoted safely is the failure.
 */
export function debugfsRequest(
  command: string,
  args: readonly string[],
): Result<string, DebugfsUnquotable> {
  const quoted: string[] = [];
  for (const arg of args) {
    const q = quoteDebugfsArg(arg);
    if (!q.ok) return q;
    quoted.push(q.value);
  }
  return ok([command, ...quoted].join(' '));
}

/** One entry of `debugfs -R 'ls -p DIR'`. */
export interface DebugfsEntry {
  readonly inode: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly size: number;
}

/** Parses `ls -p` lines such as "/12/100644/0/0/vmlinuz-6.1.0-18-amd64/8015552/". */
export function parseDebugfsLs(stdout: string): DebugfsEntry[] {
  const entries: DebugfsEntry[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^\/(\d+)\/(\d+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/.exec(line.trim());
    if (!match) continue;
    const [, inode, mode, uid, gid, name, size] = match;
    if (name === undefined || name === '.' || name === '..') continue;
    entries.push({
      inode: Number(inode),
      mode: parseInt(mode ?? '0', 8),
      uid: Number(uid),
      gid: Number(gid),
      name,
      size: Number(size === '' ? 0 : size),
    });
  }
  return entries;
}

/** True for a symbolic link's mode. */
export const isSymlinkMode = (mode: number): boolean => (mode & 0o170000) === 0o120000;
export const isRegularMode = (mode: number): boolean => (mode & 0o170000) === 0o100000;

/**
 * debugfs prints request errors on stderr and still exits 0 ("File not found by
 * ext2_lookup"): the first such line, or null.
 */
export function debugfsError(stderr: string): string | null {
  const line = stderr
    .split('\n')
    .find((l) => /not found|Bad magic|Could not|cannot|Permission denied|No such/i.test(l));
  return line?.trim() ?? null;
}

/** Runs one e2fsprogs program; debugfs request errors become exit-non-zero failures. */
export async function runE2fs(
  exec: Exec,
  ctx: TaskContext,
  program: 'mke2fs' | 'e2fsck' | 'resize2fs' | 'debugfs' | 'dumpe2fs',
  args: readonly string[],
): Promise<Result<ExecResult, ToolFailure>> {
  if (program !== 'debugfs') ctx.log(`$ ${program} ${args.join(' ')}`);
  const r = await exec(program, args, { signal: ctx.signal, keepStdout: true });
  if (!r.ok || program !== 'debugfs') return r;
  const problem = debugfsError(r.value.stderr);
  if (problem === null) return r;
  return err({
    reason: 'exit-non-zero',
    exitCode: 1,
    file: 'debugfs',
    command: ['debugfs', ...args].join(' '),
    stderrTail: [problem],
    stdoutTail: [],
  });
}

/** Runs e2fsck and reads its verdict from the exit status. */
export async function runFsck(
  exec: Exec,
  ctx: TaskContext,
  image: string,
  mode: 'check' | 'repair',
): Promise<Result<FsckVerdict, ToolFailure>> {
  ctx.log(`$ e2fsck ${e2fsckArgs(image, mode).join(' ')}`);
  const r = await exec('e2fsck', e2fsckArgs(image, mode), { signal: ctx.signal });
  if (r.ok) return ok('clean');
  if (r.error.reason !== 'exit-non-zero') return r;
  const verdict = fsckVerdict(r.error.exitCode);
  return verdict === 'failed' ? err(r.error) : ok(verdict);
}
