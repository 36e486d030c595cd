// Writes a stream of bytes to a file, skipping (seeking over) 64 KiB blocks that are all
// zero, so that an unbundled sparse disk image stays sparse and costs no disk writes for
// its empty space. The file is truncated to the full length at the end.
import type { FileHandle } from 'node:fs/promises';
import { openExclusive } from '../core/atomic-write.js';
import { isAllZero } from './parallel-gzip.js';

const GROUP = 1024 * 1024;
const BLOCK = 64 * 1024;

export class SparseFileWriter {
  readonly #file: FileHandle;
  readonly #pending = Buffer.alloc(GROUP);
  #fill = 0;
  /** File offset of #pending[0]; always a multiple of GROUP. */
  #offset = 0;

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  /**
   * Creates `path` as a new file (O_EXCL|O_NOFOLLOW: whatever is already there, a planted
   * symlink included, is neither followed nor truncated). Throws the fs error (EEXIST…).
   */
  static async create(path: string): Promise<SparseFileWriter> {
    return new SparseFileWriter(await openExclusive(path));
  }

  /** Bytes accepted so far. */
  get length(): number {
    return this.#offset + this.#fill;
  }

  async write(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const take = Math.min(GROUP - this.#fill, data.length - at);
      this.#pending.set(data.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === GROUP) await this.#flush();
    }
  }

  /** Writes what is pending, sets the final length, fsyncs and closes. */
  async finish(): Promise<void> {
    const length = this.length;
    await this.#flush();
    await this.#file.truncate(length);
    await this.#file.sync();
    await this.#file.close();
  }

  /** Closes without finishing (the caller removes the file). Never throws. */
  async abort(): Promise<void> {
    await this.#file.close().catch(() => undefined);
  }

  /** Writes the non-zero runs of whole 64 KiB blocks in #pending, then empties it. */
  async #flush(): Promise<void> {
    let runStart = -1;
    for (let block = 0; block < this.#fill; block += BLOCK) {
      const end = Math.min(this.#fill, block + BLOCK);
      const zero = isAllZero(this.#pending.subarray(block, end));
      if (!zero && runStart < 0) runStart = block;
      if (zero && runStart >= 0) {
        await this.#writeAt(runStart, block);
        runStart = -1;
      }
    }
    if (runStart >= 0) await this.#writeAt(runStart, this.#fill);
    this.#offset += this.#fill;
    this.#fill = 0;
  }

  async #writeAt(from: number, to: number): Promise<void> {
    let done = from;
    while (done < to) {
      const { bytesWritten } = await this.#file.write(
        this.#pending,
        done,
        to - done,
        this.#offset + done,
      );
      if (bytesWritten === 0) throw new Error('write returned 0 bytes');
      done += bytesWritten;
    }
  }
}
