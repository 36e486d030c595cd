// Crash-safe file replacement: write a temp file beside the target, fsync, rename.
// A reader (or a re-run after SIGKILL) sees the old file or the new one, never half.
// Temp files are always new files: a name that already exists (a planted symlink, another
// process's file) is never followed, opened or overwritten.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * open(2) flags for a file that must not exist yet: O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW.
 * O_EXCL fails with EEXIST on anything already there, a symlink included (even a dangling
 * one); O_NOFOLLOW is belt and braces for the same.
 */
export const CREATE_EXCLUSIVE =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Creates `path` as a new empty file and opens it for writing; EEXIST if anything is there. */
export function openExclusive(path: string, mode = 0o644): Promise<FileHandle> {
  return open(path, CREATE_EXCLUSIVE, mode);
}

/**
 * A fresh temp name beside `path`: `.NAME.tmp-PID-RANDOM` (16 random hex digits, so that
 * nobody can plant a file at it in advance; the PID says whose it was after a crash).
 */
export function temporaryPath(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.tmp-${process.pid}-${randomBytes(8).toString('hex')}`,
  );
}

/** Options of writeFileAtomic. */
export interface AtomicWriteOptions {
  /**
   * Permission bits of the new file (default 0644, less the umask). The temp file is
   * created with them, so a secret written 0600 is never readable by others, not even
   * for the moment between write and rename.
   */
  readonly mode?: number;
}

/**
 * Replaces `path` with `data` atomically. The temp file lives in the same directory
 * (rename is only atomic within one file system), is created new (see openExclusive) and
 * is removed if writing or the rename fails. The directory is fsynced too, so the rename
 * itself survives a power cut.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = temporaryPath(path);
  const handle = await openExclusive(tmp, options.mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    // e.g. EISDIR (the target is a directory) or EXDEV: the temp file is ours, remove it.
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dirname(path));
}

/** fsync a directory so that a rename into it is durable; ignored where unsupported. */
export async function fsyncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL/EISDIR); durability is best effort there.
  }
}
