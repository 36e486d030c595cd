// A file as one gzip stream and back, sparse on both sides: encoding reads only the file's
// data extents (a disk image's holes are compressed zeros, computed once: a MiB of holes is
// about a KiB of deflate) with the pigz-style ParallelGzip; decoding writes through
// SparseFileWriter, so all-zero blocks stay holes. Both give the content's SHA-256 and size.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import { listDataExtents, type SeekDataFailure } from '../tools/seek-data.js';
import type { Exec } from '../tools/exec.js';
import { deflateWithIgzip, igzipPath, inflateWithIgzip } from './igzip.js';
import { GZIP_HEADER, ParallelGzip } from './parallel-gzip.js';
import { SparseFileWriter } from './sparse-file-writer.js';

const CHUNK = 1024 * 1024;
/** Chunks compressed ahead of the writer. */
const WINDOW = 8;

/** What encoding gives: the content's size, and its SHA-256 unless `hash: false` asked not to. */
export interface EncodedContent {
  readonly size: number;
  readonly sha256?: string;
}

/** Why a file could not be encoded: its extents not listed, or igzip failed. */
export type EncodeFailure =
  SeekDataFailure | { readonly reason: 'igzip'; readonly failure: ToolFailure };

/** One chunk of a file's content: its bytes, or undefined for `length` zero bytes (a hole). */
interface ContentChunk {
  readonly data: Buffer | undefined;
  readonly length: number;
}

/**
 * The file's content in CHUNK-byte pieces, in order: the data extents read (each chunk in a
 * new buffer), the chunks wholly in holes not read at all. Stops early when `signal` aborts.
 */
async function* contentChunks(
  input: FileHandle,
  file: string,
  extents: readonly { readonly start: number; readonly end: number }[],
  size: number,
  signal: AbortSignal,
): AsyncGenerator<ContentChunk> {
  const count = Math.max(1, Math.ceil(size / CHUNK));
  let e = 0;
  for (let i = 0; i < count; i += 1) {
    if (signal.aborted) return;
    const start = i * CHUNK;
    const length = Math.min(CHUNK, size - start);
    while (e < extents.length && (extents[e]?.end ?? 0) <= start) e += 1;
    const isData = e < extents.length && (extents[e]?.start ?? size) < start + length;
    if (!isData) {
      yield { data: undefined, length };
      continue;
    }
    const data = Buffer.alloc(length);
    const { bytesRead } = await input.read(data, 0, length, start);
    if (bytesRead !== length)
      throw Object.assign(new Error(`${file} shrank while it was read`), { code: 'EIO' });
    yield { data, length };
  }
}

/**
 * Writes the gzip of `file` to `out` (created, must not exist; fsynced). undefined when
 * `signal` aborted. Throws the fs error of a read or write (the caller removes `out`).
 * With `igzip` and ISA-L's igzip installed, the content is piped through it: the same gzip
 * format at a fifth of zlib's CPU time for level 1. Otherwise zlib deflates 1 MiB chunks on
 * the thread pool (ParallelGzip), holes compressed once.
 */
export async function encodeSparseGzip(
  file: string,
  out: string,
  options: {
    readonly exec: Exec;
    readonly signal: AbortSignal;
    readonly concurrency?: number;
    /** zlib level 1–9 (default 6); igzip is asked for its level 1 when this is 1, else 2. */
    readonly level?: number;
    /** How many chunks may be deflated at once right now (at most `concurrency`). */
    readonly limit?: () => number;
    /** Compress with igzip (ISA-L) when it is installed, rather than zlib. */
    readonly igzip?: boolean;
    /** Compute the content's SHA-256 (default true; false when the caller digests it its own way). */
    readonly hash?: boolean;
  },
): Promise<Result<EncodedContent | undefined, EncodeFailure>> {
  const listed = await listDataExtents(file, options);
  if (!listed.ok) return listed;
  const { extents, size } = listed.value;
  const hash = options.hash === false ? undefined : createHash('sha256');
  const zeros = Buffer.alloc(CHUNK);
  const input = await open(file, 'r');
  try {
    const chunks = contentChunks(input, file, extents, size, options.signal);
    const hashed = async function* (): AsyncGenerator<ContentChunk> {
      for await (const chunk of chunks) {
        hash?.update(chunk.data ?? zeros.subarray(0, chunk.length));
        yield chunk;
      }
    };
    const done = (): Result<EncodedContent | undefined, EncodeFailure> =>
      options.signal.aborted
        ? ok(undefined)
        : ok(hash === undefined ? { size } : { size, sha256: hash.digest('hex') });
    const igzip = options.igzip === true ? await igzipPath() : undefined;
    if (igzip !== undefined) {
      // A hole's chunk is the shared zero buffer: igzip only reads it.
      const bytes = async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of hashed()) yield chunk.data ?? zeros.subarray(0, chunk.length);
      };
      const piped = await deflateWithIgzip(igzip, bytes(), out, options);
      return piped.ok ? done() : err({ reason: 'igzip', failure: piped.error });
    }
    const output = await open(out, 'wx', 0o600);
    try {
      const gzip = new ParallelGzip({
        concurrency: options.concurrency ?? 2,
        ...(options.level !== undefined ? { level: options.level } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
      const count = Math.max(1, Math.ceil(size / CHUNK));
      const ahead: Promise<readonly Buffer[]>[] = [];
      const drainOne = async (): Promise<void> => {
        const job = ahead.shift();
        if (job) for (const piece of await job) await output.write(piece);
      };
      await output.write(GZIP_HEADER);
      let i = 0;
      for await (const chunk of hashed()) {
        const job = gzip.compress(chunk.data, chunk.length, i === count - 1);
        job.catch(() => undefined); // awaited in order by drainOne
        ahead.push(job);
        i += 1;
        if (ahead.length >= WINDOW) await drainOne();
      }
      if (options.signal.aborted) return ok(undefined);
      while (ahead.length > 0) await drainOne();
      await output.write(gzip.trailer());
      await output.sync();
      return done();
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/**
 * Inflates `gz` into `dest` (created, must not exist), sparse, and returns the content's
 * size, SHA-256 (unless `hash: false`) and the compressed bytes read. Throws what the stream,
 * the inflater (code Z_…: not a whole gzip) or the file system threw; the caller removes
 * `dest`. With `igzip` and ISA-L's igzip installed, igzip inflates (a quarter of zlib's time).
 */
export async function decodeSparseGzip(
  gz: Readable,
  dest: string,
  signal: AbortSignal,
  options: { readonly exec?: Exec; readonly igzip?: boolean; readonly hash?: boolean } = {},
): Promise<{ readonly size: number; readonly sha256?: string; readonly compressedBytes: number }> {
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
  const hash = options.hash === false ? undefined : createHash('sha256');
  let compressedBytes = 0;
  const igzip =
    options.igzip === true && options.exec !== undefined ? await igzipPath() : undefined;
  try {
    if (igzip !== undefined && options.exec !== undefined)
      compressedBytes = await inflateWithIgzip(igzip, options.exec, gz, signal, async (chunk) => {
        hash?.update(chunk);
        await writer.write(chunk);
      });
    else {
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          compressedBytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(
        gz,
        count,
        createGunzip(),
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            hash?.update(chunk);
            writer.write(chunk).then(() => {
              done();
            }, done);
          },
        }),
        { signal },
      );
    }
    const size = writer.length;
    await writer.finish();
    return hash === undefined
      ? { size, compressedBytes }
      : { size, sha256: hash.digest('hex'), compressedBytes };
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
