// A file as one gzip stream and back, sparse on both sides: encoding reads only the file's
// data extents (a disk image's holes are compressed zeros, computed once: a MiB of holes is
// about a KiB of deflate) with the pigz-style ParallelGzip; decoding writes through
// SparseFileWriter, so all-zero blocks stay holes. Both give the content's SHA-256 and size.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ok, type Result } from '../core/result.js';
import { listDataExtents, type SeekDataFailure } from '../tools/seek-data.js';
import type { Exec } from '../tools/exec.js';
import { GZIP_HEADER, ParallelGzip } from './parallel-gzip.js';
import { SparseFileWriter } from './sparse-file-writer.js';

const CHUNK = 1024 * 1024;
/** Chunks compressed ahead of the writer. */
const WINDOW = 8;

export interface ContentDigest {
  readonly sha256: string;
  readonly size: number;
}

/**
 * Writes the gzip of `file` to `out` (created, must not exist; fsynced). undefined when
 * `signal` aborted. Throws the fs error of a read or write (the caller removes `out`).
 */
export async function encodeSparseGzip(
  file: string,
  out: string,
  options: {
    readonly exec: Exec;
    readonly signal: AbortSignal;
    readonly concurrency?: number;
    /** zlib level 1–9 (default 6). */
    readonly level?: number;
    /** How many chunks may be deflated at once right now (at most `concurrency`). */
    readonly limit?: () => number;
  },
): Promise<Result<ContentDigest | undefined, SeekDataFailure>> {
  const listed = await listDataExtents(file, options);
  if (!listed.ok) return listed;
  const { extents, size } = listed.value;
  const input = await open(file, 'r');
  try {
    const output = await open(out, 'wx', 0o600);
    try {
      const gzip = new ParallelGzip({
        concurrency: options.concurrency ?? 2,
        ...(options.level !== undefined ? { level: options.level } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
      const hash = createHash('sha256');
      const zeros = Buffer.alloc(CHUNK);
      const count = Math.max(1, Math.ceil(size / CHUNK));
      const ahead: Promise<readonly Buffer[]>[] = [];
      const drainOne = async (): Promise<void> => {
        const job = ahead.shift();
        if (job) for (const piece of await job) await output.write(piece);
      };
      await output.write(GZIP_HEADER);
      let e = 0;
      for (let i = 0; i < count; i += 1) {
        if (options.signal.aborted) return ok(undefined);
        const start = i * CHUNK;
        const length = Math.min(CHUNK, size - start);
        while (e < extents.length && (extents[e]?.end ?? 0) <= start) e += 1;
        const data = e < extents.length && (extents[e]?.start ?? size) < start + length;
        let bytes: Buffer | undefined;
        if (data) {
          bytes = Buffer.alloc(length);
          const { bytesRead } = await input.read(bytes, 0, length, start);
          if (bytesRead !== length)
            throw Object.assign(new Error(`${file} shrank while it was read`), { code: 'EIO' });
          hash.update(bytes);
        } else hash.update(zeros.subarray(0, length));
        const job = gzip.compress(bytes, length, i === count - 1);
        job.catch(() => undefined); // awaited in order by drainOne
        ahead.push(job);
        if (ahead.length >= WINDOW) await drainOne();
      }
      while (ahead.length > 0) await drainOne();
      await output.write(gzip.trailer());
      await output.sync();
      return ok({ sha256: hash.digest('hex'), size });
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Inflates `gz` into `dest` (created, must not exist), sparse, and returns the content's
 * digest and the compressed bytes read. Throws what the stream, zlib (code Z_…: not a whole
 * gzip) or the file system threw; the caller removes `dest`.
 */
export async function decodeSparseGzip(
  gz: Readable,
  dest: string,
  signal: AbortSignal,
): Promise<ContentDigest & { readonly compressedBytes: number }> {
  // The body may fail before the pipeline listens (a dropped connection): keep that error.
  let early: Error | undefined;
  const keepEarly = (error: Error): void => {
    early ??= error;
  };
  gz.on('error', keepEarly);
  const writer = await SparseFileWriter.create(dest);
  gz.off('error', keepEarly);
  if (early !== undefined) {
    await writer.abort();
    throw early;
  }
  const hash = createHash('sha256');
  let compressedBytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      compressedBytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      gz,
      count,
      createGunzip(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          writer.write(chunk).then(() => {
            done();
          }, done);
        },
      }),
      { signal },
    );
    const size = writer.length;
    await writer.finish();
    return { sha256: hash.digest('hex'), size, compressedBytes };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Whether a thrown error says the gzip itself is bad (truncated, forged), not the file system. */
export function isBadGzip(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
