// Crash-safe file replacement: write a temp file beside the target, fsync, rename.
// A reader (or a re-run after SIGKILL) sees the old file or the new one, never half.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Replaces `path` with `data` atomically. The temp file lives in the same directory
 * (rename is only atomic within one file system) and is removed if writing fails.
 * The directory is fsynced too, so the rename itself survives a power cut.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const handle = await open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
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
