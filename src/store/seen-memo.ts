// What a work directory has seen of remote stores: per state object, the lineage and the
// highest serial read or written. A later run that finds another lineage or an older
// serial there refuses (the store was reset, or points at an older copy). One small JSON
// file in the work directory, written atomically; plan reads it and never writes it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { Seen } from './s3-state.js';

export interface SeenMemo {
  read(url: string): Promise<Seen | undefined>;
  write(url: string, seen: Seen): Promise<void>;
}

/** The memo file of a work directory. */
export function seenMemoPath(workDir: string): string {
  return join(workDir, 'store-seen.json');
}

async function readAll(path: string): Promise<Record<string, Seen>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    const data = JSON.parse(text) as unknown;
    return data !== null && typeof data === 'object' ? (data as Record<string, Seen>) : {};
  } catch {
    return {}; // a memo cut short is no memo: the store's own checks still hold
  }
}

/** The memo in `workDir`; `writable` false for plan (reads only). */
export function fileSeenMemo(workDir: string, writable: boolean): SeenMemo {
  const path = seenMemoPath(workDir);
  return {
    read: async (url) => {
      const entry = (await readAll(path))[url];
      return entry && typeof entry.lineage === 'string' && typeof entry.serial === 'number'
        ? entry
        : undefined;
    },
    write: async (url, seen) => {
      if (!writable) return;
      const all = await readAll(path);
      try {
        await writeFileAtomic(path, `${JSON.stringify({ ...all, [url]: seen }, null, 1)}\n`);
      } catch (error) {
        // No work directory yet (apply reads the store once before making it): the memo
        // is written by the reads and writes that follow, under the lock.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    },
  };
}
