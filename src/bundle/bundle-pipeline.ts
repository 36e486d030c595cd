// The bundling pipeline proper: tar chunks → SHA-1 of the tar stream → parallel gzip →
// AES-128-CBC → part writer, with a bounded window of chunks in flight. Knows nothing of
// options, keys' origin or the manifest; bundle-parts.ts drives it.
import { createCipheriv, createHash } from 'node:crypto';
import type { TaskContext } from '../core/task.js';
import { GZIP_HEADER, ParallelGzip } from './parallel-gzip.js';
import type { PartWriter } from './part-writer.js';
import type { TarChunk, TarSource } from './tar-source.js';

/** Bytes of tar stream per gzip chunk (≥ 32 KiB; pigz uses 128 KiB, larger means fewer joins). */
export const GZIP_CHUNK = 1024 * 1024;

/** An error from one side of the pipeline, so that it can be reported against the right file. */
export class SideError extends Error {
  constructor(
    readonly side: 'image' | 'output',
    readonly original: unknown,
  ) {
    super(side);
  }
}

export interface StreamBundleOptions {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly concurrency: number;
  /** Compression jobs allowed right now (the run's free cores), asked before each chunk. */
  readonly limit?: () => number;
  readonly storeIncompressible: boolean;
  readonly size: number;
  readonly task: TaskContext;
}

interface Scheduled {
  readonly chunk: TarChunk;
  readonly compressed: Promise<readonly Buffer[]>;
}

/**
 * Runs the chunks through SHA-1, gzip, AES and the part writer, keeping a bounded window
 * of chunks in flight. Returns the tar stream's SHA-1, or undefined when aborted.
 *
 *   read(k) ──► compress(k) [thread pool, in call order] ──► in order: sha1 · aes · parts
 */
export async function streamBundle(
  source: TarSource,
  writer: PartWriter,
  options: StreamBundleOptions,
): Promise<string | undefined> {
  const { task } = options;
  const gzip = new ParallelGzip({
    concurrency: options.concurrency,
    ...(options.limit ? { limit: options.limit } : {}),
    storeIncompressible: options.storeIncompressible,
  });
  const cipher = createCipheriv('aes-128-cbc', options.key, options.iv);
  const tarHash = createHash('sha1');
  const zeros = Buffer.alloc(GZIP_CHUNK);
  const write = async (bytes: Buffer): Promise<void> => {
    if (bytes.length === 0) return;
    await writer.write(bytes).catch((error: unknown) => {
      throw new SideError('output', error);
    });
  };
  // compress() must be called in stream order: each job waits for the previous call.
  let order: Promise<unknown> = Promise.resolve();
  const schedule = (index: number): Promise<Scheduled> => {
    const read = source.read(index).catch((error: unknown) => {
      throw new SideError('image', error);
    });
    const job = order.then(async () => {
      const chunk = await read;
      const compressed = gzip.compress(chunk.data, chunk.length, chunk.isLast);
      compressed.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
      return { chunk, compressed };
    });
    order = job.catch(() => undefined);
    job.catch(() => undefined);
    return job;
  };
  const window = Math.max(4, options.concurrency * 2 + 2);
  const queue: Promise<Scheduled>[] = [];
  let next = 0;
  const fill = (): void => {
    while (next < source.chunkCount && queue.length < window) queue.push(schedule(next++));
  };
  let lastProgress = 0;
  try {
    fill();
    await write(cipher.update(GZIP_HEADER));
    for (let index = 0; index < source.chunkCount; index += 1) {
      if (task.signal.aborted) return undefined;
      const head = queue.shift();
      if (head === undefined) throw new Error('pump: queue underflow');
      const { chunk, compressed } = await head;
      fill();
      tarHash.update(chunk.data ?? zeros.subarray(0, chunk.length));
      const encrypted = (await compressed).map((piece) => cipher.update(piece));
      source.release(chunk); // hashed, compressed and encrypted: the buffer can be reused
      for (const bytes of encrypted) await write(bytes);
      const now = Date.now();
      if (now - lastProgress >= 250 || chunk.isLast) {
        lastProgress = now;
        const done = Math.min(options.size, (index + 1) * GZIP_CHUNK);
        task.progress({ done, total: options.size, unit: 'bytes', message: 'bundling' });
      }
    }
    await write(cipher.update(gzip.trailer()));
    await write(cipher.final());
    return tarHash.digest('hex');
  } finally {
    // Let every job still in flight settle before the source is closed.
    await Promise.allSettled(queue.map(async (job) => (await job).compressed));
  }
}
