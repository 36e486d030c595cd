// Identity of files: size, mtime and inode from a stat, plus a SHA-256 computed once.
// Large inputs (an ISO, a disk image) are hashed when first seen and then re-identified
// by their stat alone, never re-read while unchanged.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FileIdentity } from './state.js';

/** The stat part of an identity, or undefined when the file does not exist. */
export async function statIdentity(
  path: string,
): Promise<Omit<FileIdentity, 'sha256'> | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  } catch {
    return undefined;
  }
}

/** True when the stat part matches (the file is taken to be unchanged). */
export function sameStat(
  a: Omit<FileIdentity, 'sha256'>,
  b: Omit<FileIdentity, 'sha256'>,
): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * Content digest of a file: SHA-256 over its 1 MiB chunks, each framed by a type byte
 * and its length, where an all-zero chunk contributes only its frame. Disk and file
 * system images are mostly zeros: this hashes a sparse 2 GiB image in a fraction of
 * the time a plain SHA-256 takes, and it still changes whenever any byte changes.
 * (An internal identity for freshness checks: not comparable with `sha256sum`.)
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const stream = createReadStream(path, { highWaterMark: CHUNK, ...(signal ? { signal } : {}) });
  const frame = Buffer.alloc(9);
  for await (const data of stream) {
    const chunk = data as Buffer;
    const zero =
      chunk.length === CHUNK ? chunk.equals(ZEROS) : chunk.equals(ZEROS.subarray(0, chunk.length));
    frame[0] = zero ? 0 : 1;
    frame.writeBigUInt64BE(BigInt(chunk.length), 1);
    hash.update(frame);
    if (!zero) hash.update(chunk);
  }
  return hash.digest('hex');
}

/**
 * The file's identity, re-using `cached` when the stat still matches; undefined when
 * the file does not exist.
 */
export async function identifyFile(
  path: string,
  cached: FileIdentity | undefined,
  signal?: AbortSignal,
): Promise<FileIdentity | undefined> {
  const current = await statIdentity(path);
  if (!current) return undefined;
  if (cached && sameStat(cached, current)) return cached;
  const sha256 = await hashFile(path, signal);
  // A file that changed while being hashed gets the later stat, so the next look re-hashes it.
  const after = await statIdentity(path);
  return after && sameStat(after, current)
    ? { ...current, sha256 }
    : { ...current, sha256, mtimeMs: -1 };
}
