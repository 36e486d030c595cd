// Opening and reading files that must be regular files of bounded size: a bundle's
// manifest and parts, on the unbundle side and the upload side alike. A FIFO is never
// waited on (O_NONBLOCK), a device never read without end, a symlink refused where asked.
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';
import { codeOf } from './fs-errors.js';

/** Why a file could not be used: an errno code, a non-regular kind, or too many bytes. */
export type RegularFileProblem =
  | { readonly problem: 'unreadable'; readonly code: string }
  | { readonly problem: 'not-regular'; readonly kind: string }
  | { readonly problem: 'too-large'; readonly maxBytes: number };

export interface RegularFileOptions {
  /** Refuse a symbolic link at `path` itself (O_NOFOLLOW) instead of following it. */
  readonly refuseLinks?: boolean;
}

/** What a non-regular file is, in words for messages ('symbolic link', 'character device'…). */
export function fileKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isDirectory()) return 'directory';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  if (stats.isFIFO()) return 'named pipe (FIFO)';
  if (stats.isSocket()) return 'socket';
  return 'special file';
}

/** The problem in words: "ENOENT", "a named pipe (FIFO), not a regular file", "larger than N bytes". */
export function describeFileProblem(p: RegularFileProblem): string {
  switch (p.problem) {
    case 'unreadable':
      return p.code;
    case 'not-regular':
      return `a ${p.kind}, not a regular file`;
    case 'too-large':
      return `larger than ${p.maxBytes} bytes`;
  }
}

/**
 * Opens `path` read-only if it is a regular file, with its stats. O_NONBLOCK makes opening
 * a FIFO return at once (fstat then refuses it); it changes nothing for regular files.
 * The caller closes the handle.
 */
export async function openRegularFile(
  path: string,
  options: RegularFileOptions = {},
): Promise<Result<{ handle: FileHandle; stats: Stats }, RegularFileProblem>> {
  const flags =
    constants.O_RDONLY |
    constants.O_NONBLOCK |
    (options.refuseLinks === true ? constants.O_NOFOLLOW : 0);
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    const code = codeOf(error);
    return err(
      code === 'ELOOP' && options.refuseLinks === true
        ? { problem: 'not-regular', kind: 'symbolic link' }
        : { problem: 'unreadable', code },
    );
  }
  try {
    const stats = await handle.stat();
    const kind = fileKind(stats);
    if (kind === undefined) return ok({ handle, stats });
    await handle.close();
    return err({ problem: 'not-regular', kind });
  } catch (error) {
    await handle.close();
    return err({ problem: 'unreadable', code: codeOf(error) });
  }
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes. Reads no more than
 * `maxBytes + 1` bytes whatever the file claims, so a file that grows while read is
 * refused too.
 */
export async function readRegularFile(
  path: string,
  options: RegularFileOptions & { readonly maxBytes: number },
): Promise<Result<Buffer, RegularFileProblem>> {
  const opened = await openRegularFile(path, options);
  if (!opened.ok) return opened;
  const { handle, stats } = opened.value;
  const tooLarge = err({ problem: 'too-large' as const, maxBytes: options.maxBytes });
  try {
    if (stats.size > options.maxBytes) return tooLarge;
    let buffer = Buffer.alloc(Math.min(stats.size, options.maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        // The file grew while read: go on up to maxBytes + 1, then refuse.
        if (length > options.maxBytes) return tooLarge;
        const bigger = Buffer.alloc(Math.min(length * 2, options.maxBytes + 1));
        buffer.copy(bigger);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return ok(buffer.subarray(0, length));
  } catch (error) {
    return err({ problem: 'unreadable', code: codeOf(error) });
  } finally {
    await handle.close();
  }
}
