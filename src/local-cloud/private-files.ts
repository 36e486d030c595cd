// Files and directories of the local cloud's data dir that only the user running it may
// read: directories 0700, files 0600 (objects, images, the key pair). Modes only, no layout.
import { chmod, mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-write.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates `dir` (and parents) private to this user; tightens it if it already exists. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** writeFileAtomic of a file readable by this user only (0600 from its creation on). */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text, { mode: FILE_MODE });
}
