// Identity of files: size, mtime and inode from a stat, plus a SHA-256 computed once.
// Large inputs (an ISO, a disk image) are hashed when first seen and then re-identified
// by their stat alone, never re-read while unchanged.
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { exec } from '../tools/exec.js';
import { listDataExtents, type DataExtent } from '../tools/seek-data.js';
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

/** Files at least this large are asked for their data extents first (one short perl run). */
const EXTENTS_FROM = 16 * CHUNK;

/** Lists a file's data extents (tools/seek-data.ts); undefined: read the whole file. */
export type ExtentLister = (
  path: string,
  signal: AbortSignal,
) => Promise<{ readonly extents: readonly DataExtent[]; readonly size: number } | undefined>;

const seekDataExtents: ExtentLister = async (path, signal) => {
  const listed = await listDataExtents(path, { exec, signal });
  return listed.ok ? listed.value : undefined;
};

/**
 * Content digest of a file: SHA-256 over its 1 MiB chunks, each framed by a type byte
 * and its length, where an all-zero chunk contributes only its frame. Disk and file
 * system images are mostly zeros: this hashes a sparse 2 GiB image in a fraction of
 * the time a plain SHA-256 takes, and it still changes whenever any byte changes.
 * (An internal identity for freshness checks: not comparable with `sha256sum`.)
 *
 * A large file's holes (lseek SEEK_DATA/SEEK_HOLE) are not read: a chunk that lies wholly
 * in a hole is all zeros by definition. Reading the holes of a file just written (a
 * freshly cut 2 GiB root file system) took 1–5 s, most of extract-rootfs's time; its
 * 440 MiB of data alone take 0.4 s. The digest is the same either way; when the extents
 * cannot be listed, or the file's size changed meanwhile, every chunk is read.
 */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
  listExtents: ExtentLister = seekDataExtents,
): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const map =
      size >= EXTENTS_FROM
        ? await listExtents(path, signal ?? new AbortController().signal)
        : undefined;
    const extents = map?.size === size ? map.extents : undefined;
    const hash = createHash('sha256');
    const frame = Buffer.alloc(9);
    const buffer = Buffer.alloc(CHUNK);
    let next = 0; // first extent that may still overlap the current chunk
    for (let offset = 0; offset < size; offset += CHUNK) {
      signal?.throwIfAborted();
      const length = Math.min(CHUNK, size - offset);
      while (extents && next < extents.length && (extents[next]?.end ?? 0) <= offset) next += 1;
      const inHole = extents !== undefined && !((extents[next]?.start ?? size) < offset + length);
      const chunk = inHole
        ? ZEROS.subarray(0, length)
        : await readChunk(handle, buffer, offset, length);
      const zero = inHole || chunk.equals(ZEROS.subarray(0, chunk.length));
      frame[0] = zero ? 0 : 1;
      frame.writeBigUInt64BE(BigInt(chunk.length), 1);
      hash.update(frame);
      if (!zero) hash.update(chunk);
      if (chunk.length < length) break;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * Up to `length` bytes at `offset`; fewer only at the end of a file that shrank while
 * being hashed (its digest then covers what was there, and identifyFile's second stat
 * marks it to be hashed again).
 */
async function readChunk(
  handle: FileHandle,
  buffer: Buffer,
  offset: number,
  length: number,
): Promise<Buffer> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
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
