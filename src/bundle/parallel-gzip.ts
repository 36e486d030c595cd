// One gzip member made of chunks compressed in parallel, as pigz does: each chunk is a
// separate raw-deflate run primed with the previous 32 KiB as dictionary and ended with a
// sync flush (the last one with a final block), the CRCs are combined. An all-zero chunk
// that follows 32 KiB of zeros always compresses to the same bytes, so those are reused.
// Compression runs on libuv's thread pool (zlib's async API); no files here.
import * as zlib from 'node:zlib';
import { crc32, crc32Combine } from './crc32.js';

/** deflate's window: a chunk's matches reach back at most this far into the dictionary. */
const WINDOW = 32 * 1024;

/**
 * The 10-byte header GNU gzip writes when reading a pipe: no name, MTIME 0, XFL 0,
 * OS 3 = Unix (spec §2.5, observed on the golden bundles).
 */
export const GZIP_HEADER: Buffer = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

export interface ParallelGzipOptions {
  /** zlib level 1–9 (default 6, as gzip and pigz). */
  readonly level?: number;
  /** Chunks compressed at the same time (thread-pool jobs), at most. */
  readonly concurrency: number;
  /** Jobs allowed right now (asked before each chunk; default `concurrency`): the free cores. */
  readonly limit?: () => number;
  /**
   * Write chunks whose bytes look random (already compressed or encrypted data) as stored
   * deflate blocks instead of running the compressor over them: same validity, no larger
   * (deflate cannot shrink such data), a fraction of the CPU. Default true.
   */
  readonly storeIncompressible?: boolean;
}

/**
 * A counting semaphore for thread-pool jobs whose limit may change while it runs (the
 * cores free right now): a job starts when fewer than min(max, limit()) run, else waits for
 * a job to finish and asks again (in the order they came). limit() below 1 counts as 1, so jobs always progress.
 */
export class JobSlots {
  readonly #max: number;
  readonly #limit: () => number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;

  constructor(max: number, limit: () => number = () => max) {
    this.#max = Math.max(1, max);
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    while (this.#active >= Math.max(1, Math.min(this.#max, this.#limit())))
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active += 1;
    try {
      return await job();
    } finally {
      this.#active -= 1;
      // Every waiter asks again: the limit may have grown (a VM gave its cores back).
      for (const wake of this.#waiting.splice(0)) wake();
    }
  }
}

function deflateRaw(input: Buffer, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.deflateRaw(input, options, (error, result) => {
      if (error) reject(error);
      else resolve(result);
    });
  });
}

/**
 * Builds one gzip member from consecutive chunks of the uncompressed stream.
 *
 *   header ‖ deflate(c0, sync) ‖ deflate(c1 | dict=tail(c0), sync) ‖ … ‖ deflate(cN | dict, finish) ‖ trailer
 *
 * `compress` must be called once per chunk, in stream order (it reads the previous chunk's
 * tail); the returned promises may settle in any order but the caller must emit their bytes
 * in the order of the calls. Every chunk but the last must be at least 32 KiB long.
 * `trailer()` gives CRC-32 and ISIZE (length mod 2^32) after the last call.
 */
export class ParallelGzip {
  readonly #level: number;
  readonly #storeIncompressible: boolean;
  readonly #slots: JobSlots;
  readonly #zeroForms = new Map<string, Promise<readonly Buffer[]>>();
  readonly #zeroCrcs = new Map<number, number>();
  #zeros = Buffer.alloc(0);
  /** The last 32 KiB of the previous chunk; `'zero'` when they are all zero. */
  #previousTail: Buffer | 'zero' | undefined;
  #crc = 0;
  #length = 0;
  /** Compressed/uncompressed size of the last deflated chunk, to size the next output buffer. */
  #ratio = 1;

  constructor(options: ParallelGzipOptions) {
    this.#level = options.level ?? 6;
    this.#storeIncompressible = options.storeIncompressible ?? true;
    this.#slots = new JobSlots(options.concurrency, options.limit);
  }

  /**
   * Compresses the next chunk into its deflate bytes (one or more buffers, to be used in
   * order). `data` is its bytes, or undefined when the chunk is `length` zero bytes (no
   * buffer needed: holes in a sparse image cost nothing). `isLast` ends the deflate stream
   * with a final block. `data` must stay unchanged until the caller is done with the
   * returned buffers: they may be views of it (stored blocks), and it is read on a
   * thread-pool thread meanwhile. The dictionary kept for the next chunk is a copy.
   */
  compress(data: Buffer | undefined, length: number, isLast: boolean): Promise<readonly Buffer[]> {
    const isZero = data === undefined;
    const dictionary = this.#previousTail;
    this.#crc = crc32Combine(this.#crc, isZero ? this.#zeroCrc(length) : crc32(data), length);
    this.#length += length;
    this.#previousTail = isZero ? 'zero' : tailOf(data);
    if (!isZero && this.#storeIncompressible && looksIncompressible(data)) {
      return Promise.resolve(storedBlocks(data, isLast));
    }
    const options: zlib.ZlibOptions = {
      level: this.#level,
      // One output buffer per job, sized from the last chunk's ratio (zlib adds another
      // if it is too small), rather than 16 KiB pieces joined by a copy: less garbage.
      chunkSize: Math.min(
        length + (length >> 4) + 1024,
        Math.max(16 * 1024, Math.ceil(length * this.#ratio * 1.25) + 8192),
      ),
      finishFlush: isLast ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      ...(dictionary === undefined
        ? {}
        : { dictionary: dictionary === 'zero' ? this.#zeroBuffer(WINDOW) : dictionary }),
    };
    const run = (input: Buffer): Promise<readonly Buffer[]> =>
      this.#slots.run(async () => {
        const out = await deflateRaw(input, options);
        if (!isZero) this.#ratio = out.length / Math.max(1, length);
        return [out];
      });
    if (isZero && !isLast && dictionary === 'zero') {
      // Same input, same dictionary, same settings: the same bytes. Compress once.
      const key = `zero:${length}`;
      let form = this.#zeroForms.get(key);
      if (form === undefined) {
        form = run(this.#zeroBuffer(length));
        this.#zeroForms.set(key, form);
      }
      return form;
    }
    return run(data ?? this.#zeroBuffer(length));
  }

  /** Total uncompressed bytes given so far. */
  get length(): number {
    return this.#length;
  }

  /** The 8-byte gzip trailer: CRC-32 then ISIZE (length mod 2^32), little-endian. */
  trailer(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32LE(this.#crc >>> 0, 0);
    out.writeUInt32LE(this.#length % 2 ** 32, 4);
    return out;
  }

  #zeroCrc(length: number): number {
    let value = this.#zeroCrcs.get(length);
    if (value === undefined) {
      value = crc32(this.#zeroBuffer(length));
      this.#zeroCrcs.set(length, value);
    }
    return value;
  }

  /** A shared read-only buffer of zeros (never handed out for writing). */
  #zeroBuffer(length: number): Buffer {
    if (this.#zeros.length < length) this.#zeros = Buffer.alloc(length);
    return this.#zeros.subarray(0, length);
  }
}

/** Largest stored block (RFC 1951 §3.2.4: LEN is 16 bits). */
const STORED_MAX = 65535;

/**
 * `data` as stored (uncompressed) deflate blocks: a header byte (BFINAL, BTYPE 00, padding;
 * every chunk starts on a byte boundary because the previous one ended with a sync flush),
 * LEN and NLEN little-endian, then the bytes (views of `data`, no copy). The block holding
 * the stream's last byte has BFINAL set when `isLast`.
 */
export function storedBlocks(data: Buffer, isLast: boolean): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  do {
    const length = Math.min(STORED_MAX, data.length - at);
    const header = Buffer.alloc(5);
    header[0] = isLast && at + length === data.length ? 1 : 0;
    header.writeUInt16LE(length, 1);
    header.writeUInt16LE(~length & 0xffff, 3);
    out.push(header, data.subarray(at, at + length));
    at += length;
  } while (at < data.length);
  return out;
}

/**
 * A copy of the last 32 KiB of a chunk as the next chunk's dictionary, or 'zero' when all
 * zero. Copied: the chunk's buffer goes back to the caller's pool once it is compressed,
 * possibly before the next chunk's job starts.
 */
function tailOf(data: Buffer): Buffer | 'zero' {
  const tail = data.subarray(Math.max(0, data.length - WINDOW));
  return isAllZero(tail) ? 'zero' : Buffer.from(tail);
}

/** Bytes sampled (in 4 places) to judge a chunk; bits per byte from which it counts as random. */
const SAMPLE = 8 * 1024;
const RANDOM_ENTROPY = 7.95;

/**
 * True when a sample of the chunk has the byte statistics of random data (Shannon entropy
 * ≥ 7.95 bits per byte over 4 × 8 KiB): compressed or encrypted content, which deflate
 * cannot shrink. Text and program code measure 2–7; random data 7.99. A wrong guess only
 * costs compression ratio, never correctness. (The idea of zstd's and lz4's fast paths for
 * incompressible input.)
 */
export function looksIncompressible(data: Uint8Array): boolean {
  if (data.length < 4 * SAMPLE) return false;
  const counts = new Uint32Array(256);
  for (let q = 0; q < 4; q += 1) {
    const start = Math.floor(((data.length - SAMPLE) * q) / 3);
    for (let i = start; i < start + SAMPLE; i += 1)
      counts[data[i] ?? 0] = (counts[data[i] ?? 0] ?? 0) + 1;
  }
  const total = 4 * SAMPLE;
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / total;
    entropy -= p * Math.log2(p);
  }
  return entropy >= RANDOM_ENTROPY;
}

const ZERO_PROBE = Buffer.alloc(64 * 1024);

/** True when every byte is zero (memcmp against a zero buffer, 64 KiB at a time). */
export function isAllZero(data: Uint8Array): boolean {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 0; offset < bytes.length; offset += ZERO_PROBE.length) {
    const end = Math.min(bytes.length, offset + ZERO_PROBE.length);
    if (!bytes.subarray(offset, end).equals(ZERO_PROBE.subarray(0, end - offset))) return false;
  }
  return true;
}
