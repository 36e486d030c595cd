// Cuts the ciphertext into PREFIX.part.NN files of `partSize` bytes with the SHA-1 of each
// (spec §2.7), including euca2ools' empty trailing part when the ciphertext is an exact
// multiple of the part size. Parts are written under temporary names and renamed only by
// commit(); abort() removes them. Knows nothing of the manifest.
import { createHash, type Hash } from 'node:crypto';
import { rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, openExclusive, temporaryPath } from '../core/atomic-write.js';
import { forgetTemporary, trackTemporary } from './exit-cleanup.js';

/** A part file: its name in the bundle directory, size in bytes, lower-case hex SHA-1. */
export interface WrittenPart {
  readonly filename: string;
  readonly size: number;
  readonly sha1: string;
}

/** `PREFIX.part.NN`: the index with at least two digits (`00`…`99`, `100`…). */
export function partFileName(prefix: string, index: number): string {
  return `${prefix}.part.${String(index).padStart(2, '0')}`;
}

export interface PartWriterOptions {
  readonly dir: string;
  readonly prefix: string;
  /** Bytes per part (euca2ools default 10485760). */
  readonly partSize: number;
  /** fsync each part before it counts as written (default true). */
  readonly durable?: boolean;
}

interface OpenPart {
  readonly filename: string;
  readonly tempPath: string;
  readonly file: FileHandle;
  readonly hash: Hash;
  size: number;
  pending: Buffer[];
  pendingBytes: number;
}

/** Writes are gathered up to this size before going to the file. */
const FLUSH_BYTES = 1024 * 1024;

/**
 * Streaming splitter. Call write() with consecutive ciphertext, then finish() for the
 * list of parts, then commit() to give them their final names — or abort() at any point.
 */
export class PartWriter {
  readonly #options: PartWriterOptions;
  readonly #done: (WrittenPart & { tempPath: string })[] = [];
  readonly #temps = new Set<string>();
  /** fsync + close of finished parts, running while later parts are written. */
  readonly #closing: Promise<void>[] = [];
  #current: OpenPart | undefined;
  #lastWasFull = true;

  constructor(options: PartWriterOptions) {
    if (!Number.isSafeInteger(options.partSize) || options.partSize <= 0)
      throw new RangeError(`bad part size ${options.partSize}`);
    this.#options = options;
  }

  /** Appends ciphertext; the caller must not modify `data` afterwards. */
  async write(data: Buffer): Promise<void> {
    const { partSize } = this.#options;
    let offset = 0;
    while (offset < data.length) {
      const part = this.#current ?? (await this.#startPart());
      const take = Math.min(partSize - part.size, data.length - offset);
      const slice = data.subarray(offset, offset + take);
      part.hash.update(slice);
      part.size += take;
      part.pending.push(slice);
      part.pendingBytes += take;
      offset += take;
      if (part.size === partSize) await this.#closePart(part);
      else if (part.pendingBytes >= FLUSH_BYTES) await flush(part);
    }
  }

  /**
   * Closes the last part. When the ciphertext filled its last part exactly, an empty part
   * follows, as euca2ools writes it (its writer stops only after a short part).
   */
  async finish(): Promise<readonly WrittenPart[]> {
    if (this.#current !== undefined) await this.#closePart(this.#current);
    else if (this.#lastWasFull) await this.#closePart(await this.#startPart());
    await Promise.all(this.#closing);
    return this.#done.map(({ filename, size, sha1 }) => ({ filename, size, sha1 }));
  }

  /** Renames every finished part to its final name and makes the renames durable. */
  async commit(): Promise<void> {
    for (const part of this.#done) {
      await rename(part.tempPath, join(this.#options.dir, part.filename));
      this.#temps.delete(part.tempPath);
      forgetTemporary(part.tempPath);
    }
    await fsyncDirectory(this.#options.dir);
  }

  /** Closes and removes every part file not yet committed. Never throws. */
  async abort(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await current.file.close().catch(() => undefined);
    await Promise.allSettled(this.#closing);
    for (const path of this.#temps) {
      await unlink(path).catch(() => undefined);
      forgetTemporary(path);
    }
    this.#temps.clear();
  }

  async #startPart(): Promise<OpenPart> {
    const filename = partFileName(this.#options.prefix, this.#done.length);
    // A new file under a fresh name: never one that is already there (a planted symlink
    // would otherwise be followed); it is ours to remove only once it was created.
    const tempPath = temporaryPath(join(this.#options.dir, filename));
    const file = await openExclusive(tempPath);
    this.#temps.add(tempPath);
    trackTemporary(tempPath);
    const part: OpenPart = {
      filename,
      tempPath,
      file,
      hash: createHash('sha1'),
      size: 0,
      pending: [],
      pendingBytes: 0,
    };
    this.#current = part;
    return part;
  }

  async #closePart(part: OpenPart): Promise<void> {
    await flush(part);
    // fsync in the background so the pipeline does not stall on the disk, one part at a
    // time so that at most one thread-pool thread waits on it (the others compress, read
    // and write); finish() waits for all of them before the parts can be committed.
    const { file } = part;
    const durable = this.#options.durable ?? true;
    const previous = this.#closing.at(-1) ?? Promise.resolve();
    const closing = previous
      .catch(() => undefined)
      .then(() => (durable ? file.sync() : undefined))
      .finally(() => file.close());
    closing.catch(() => undefined);
    this.#closing.push(closing);
    this.#current = undefined;
    this.#lastWasFull = part.size === this.#options.partSize;
    this.#done.push({
      filename: part.filename,
      tempPath: part.tempPath,
      size: part.size,
      sha1: part.hash.digest('hex'),
    });
  }
}

async function flush(part: OpenPart): Promise<void> {
  if (part.pendingBytes === 0) return;
  const buffers = part.pending;
  const total = part.pendingBytes;
  part.pending = [];
  part.pendingBytes = 0;
  // libuv writes every buffer (it loops over short writes and IOV_MAX batches); check anyway.
  const { bytesWritten } = await part.file.writev(buffers);
  if (bytesWritten !== total) throw new Error(`short write to ${part.tempPath}`);
}
