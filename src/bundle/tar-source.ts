// Reads an image file as the chunks of its bundle tar stream (spec §2.3): header blocks,
// the image bytes, padding and end blocks, cut into fixed-size chunks. Holes of a sparse
// image (known from its data extents) are never read, and chunks that hold only zeros are
// reported as such without a buffer, so the gzip stage can reuse their compressed form.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { DataExtent } from '../tools/seek-data.js';
import { isAllZero } from './parallel-gzip.js';
import { tarHeaderBlocks, tarStreamLength } from './tar-format.js';

/** Buffers kept for reuse; more in flight than this are simply allocated. */
const POOL_MAX = 32;

/** One chunk of the tar stream. `data` is undefined when all `length` bytes are zero. */
export interface TarChunk {
  readonly index: number;
  readonly data: Buffer | undefined;
  readonly length: number;
  readonly isLast: boolean;
}

/** The file ended before the size it had when bundling started: it changed underneath. */
export class ImageShrankError extends Error {
  constructor(readonly offset: number) {
    super(`image ended early at byte ${offset}`);
  }
}

export interface TarSourceOptions {
  readonly imagePath: string;
  /** Member name: the bundle prefix. */
  readonly name: string;
  readonly size: number;
  /** Data ranges of the image; undefined = the whole file is data. */
  readonly extents: readonly DataExtent[] | undefined;
  /** Bytes per chunk, at least 32 KiB (the gzip dictionary window). */
  readonly chunkSize: number;
}

/**
 * The tar stream of one image as numbered chunks; `read(i)` may run concurrently for
 * different chunks. Call `close()` when done (also after a failure).
 */
export class TarSource {
  readonly streamLength: number;
  readonly chunkCount: number;
  readonly #header: Buffer;
  readonly #size: number;
  readonly #extents: readonly DataExtent[];
  readonly #chunkSize: number;
  readonly #file: FileHandle;
  /** Chunk buffers given back by release(), reused so that memory stays flat. */
  readonly #pool: Buffer[] = [];

  private constructor(options: TarSourceOptions, file: FileHandle) {
    this.#header = tarHeaderBlocks(options.name, options.size);
    this.#size = options.size;
    this.#extents = options.extents ?? (options.size > 0 ? [{ start: 0, end: options.size }] : []);
    this.#chunkSize = options.chunkSize;
    this.#file = file;
    this.streamLength = tarStreamLength(this.#header.length, options.size);
    this.chunkCount = Math.ceil(this.streamLength / options.chunkSize);
  }

  /**
   * Opens the image for reading. Throws the fs error when it cannot be opened, and an
   * error with code `not a regular file` when what was opened is not a regular file (the path was
   * swapped for a FIFO or a device after the caller's stat; O_NONBLOCK keeps a FIFO
   * from blocking the open until a writer comes).
   */
  static async open(options: TarSourceOptions): Promise<TarSource> {
    const file = await open(options.imagePath, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = await file.stat().catch(async (error: unknown) => {
      await file.close();
      throw error;
    });
    if (!info.isFile()) {
      await file.close();
      throw Object.assign(new Error(`${options.imagePath} is not a regular file`), {
        code: 'not a regular file',
      });
    }
    return new TarSource(options, file);
  }

  /**
   * Reads chunk `index` into a buffer from the pool. Throws fs errors, or ImageShrankError
   * if the file got shorter. Give the chunk back with release() once nothing uses its bytes.
   */
  async read(index: number): Promise<TarChunk> {
    const start = index * this.#chunkSize;
    const end = Math.min(this.streamLength, start + this.#chunkSize);
    const length = end - start;
    const isLast = index === this.chunkCount - 1;
    const headerEnd = this.#header.length;
    const pieces = this.#piecesIn(start - headerEnd, end - headerEnd);
    if (start >= headerEnd && pieces.length === 0)
      return { index, data: undefined, length, isLast };
    const buffer = this.#pool.pop() ?? Buffer.allocUnsafe(this.#chunkSize);
    const data = buffer.subarray(0, length);
    let filled = 0;
    if (start < headerEnd) {
      filled = this.#header.copy(data, 0, start, Math.min(end, headerEnd));
    }
    for (const piece of pieces) {
      const at = piece.start + headerEnd - start;
      data.fill(0, filled, at);
      await this.#readFully(data, at, piece.end - piece.start, piece.start);
      filled = at + piece.end - piece.start;
    }
    data.fill(0, filled);
    if (start >= headerEnd && isAllZero(data)) {
      this.#pool.push(buffer);
      return { index, data: undefined, length, isLast };
    }
    return { index, data, length, isLast };
  }

  /** Returns a chunk's buffer to the pool: its bytes must no longer be in use anywhere. */
  release(chunk: TarChunk): void {
    if (chunk.data === undefined || this.#pool.length >= POOL_MAX) return;
    this.#pool.push(Buffer.from(chunk.data.buffer, chunk.data.byteOffset, this.#chunkSize));
  }

  async close(): Promise<void> {
    await this.#file.close();
  }

  /** Data extents intersected with the image range [from, to) (image offsets). */
  #piecesIn(from: number, to: number): DataExtent[] {
    const lo = Math.max(0, from);
    const hi = Math.min(this.#size, to);
    if (hi <= lo) return [];
    const out: DataExtent[] = [];
    // Binary search for the first extent ending after `lo`.
    let left = 0;
    let right = this.#extents.length;
    while (left < right) {
      const mid = (left + right) >> 1;
      if ((this.#extents[mid]?.end ?? 0) <= lo) left = mid + 1;
      else right = mid;
    }
    for (let i = left; i < this.#extents.length; i += 1) {
      const extent = this.#extents[i];
      if (extent === undefined || extent.start >= hi) break;
      out.push({ start: Math.max(lo, extent.start), end: Math.min(hi, extent.end) });
    }
    return out;
  }

  async #readFully(into: Buffer, offset: number, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#file.read(
        into,
        offset + done,
        length - done,
        position + done,
      );
      if (bytesRead === 0) throw new ImageShrankError(position + done);
      done += bytesRead;
    }
  }
}
