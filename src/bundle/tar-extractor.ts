// The unbundler's end of the pipe: hashes the whole tar stream (the manifest's <digest>)
// and writes the data of its first regular member, as euca2ools' unbundle does (spec §5).
// Accepts GNU long names and skips pax headers; refuses other member types. Every length
// is bounded: a header cannot make it consume an endless stream, nor can data after the
// member (a gzip bomb padded after the image).
import { createHash } from 'node:crypto';
import { unreachable } from '../core/unreachable.js';
import type { BundleFailure } from './bundle-failure.js';
import { isZeroBlock, padding, readTarHeader, TAR_BLOCK } from './tar-format.js';

/** A reason to stop the unbundle pipeline, carried as an exception through stream code. */
export class UnbundleStop extends Error {
  constructor(readonly failure: BundleFailure) {
    super(failure.reason);
  }
}

/** Where the member's bytes go. */
export interface MemberSink {
  write(data: Uint8Array): Promise<void>;
}

type State =
  | { readonly kind: 'header' }
  | { readonly kind: 'skip'; remaining: number; readonly then: 'header' }
  | { readonly kind: 'long-name'; remaining: number; readonly pad: number }
  | { readonly kind: 'data'; remaining: number }
  | { readonly kind: 'tail'; seen: number };

const LONG_NAME_MAX = 4096;
/** A GNU long name longer than this is not a file name: the stream is refused. */
const LONG_NAME_LIMIT = 64 * 1024;
/** pax extended headers larger than this are refused (they hold a few attributes). */
const PAX_LIMIT = 1024 * 1024;
/**
 * What may follow the member's data: padding to 512 bytes, two zero blocks, padding to
 * the 10240-byte record (Python's tarfile and GNU tar) — well under this.
 */
export const TAIL_LIMIT = 64 * 1024;

export class TarExtractor {
  readonly #hash = createHash('sha1');
  readonly #sink: MemberSink;
  readonly #expectedSize: number;
  readonly #header = Buffer.alloc(TAR_BLOCK);
  #headerFill = 0;
  #state: State = { kind: 'header' };
  #longName: Buffer[] = [];
  #memberName: string | undefined;

  /** `expectedSize`: the manifest's <size>; a member of another size stops at its header. */
  constructor(sink: MemberSink, expectedSize: number) {
    this.#sink = sink;
    this.#expectedSize = expectedSize;
  }

  /** Consumes the next bytes of the tar stream. Throws UnbundleStop or the sink's errors. */
  async push(chunk: Buffer): Promise<void> {
    this.#hash.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const state = this.#state;
      switch (state.kind) {
        case 'tail':
          state.seen += chunk.length - at;
          if (state.seen > TAIL_LIMIT)
            throw new UnbundleStop({
              reason: 'stream-corrupt',
              stage: 'tar',
              detail: `more than ${TAIL_LIMIT} bytes follow the image in the tar stream`,
            });
          return;
        case 'header': {
          const take = Math.min(TAR_BLOCK - this.#headerFill, chunk.length - at);
          chunk.copy(this.#header, this.#headerFill, at, at + take);
          this.#headerFill += take;
          at += take;
          if (this.#headerFill === TAR_BLOCK) {
            this.#headerFill = 0;
            this.#onHeader();
          }
          break;
        }
        case 'skip':
        case 'long-name': {
          const take = Math.min(state.remaining, chunk.length - at);
          if (
            state.kind === 'long-name' &&
            this.#longName.reduce((n, b) => n + b.length, 0) < LONG_NAME_MAX
          )
            this.#longName.push(Buffer.from(chunk.subarray(at, at + take)));
          state.remaining -= take;
          at += take;
          if (state.remaining === 0)
            this.#state =
              state.kind === 'long-name' && state.pad > 0
                ? { kind: 'skip', remaining: state.pad, then: 'header' }
                : { kind: 'header' };
          break;
        }
        case 'data': {
          const take = Math.min(state.remaining, chunk.length - at);
          if (take > 0) await this.#sink.write(chunk.subarray(at, at + take));
          state.remaining -= take;
          at += take;
          if (state.remaining === 0) this.#state = { kind: 'tail', seen: 0 };
          break;
        }
        default:
          unreachable(state);
      }
    }
  }

  /** The tar stream's SHA-1 (hex). Throws UnbundleStop when no whole member was read. */
  finish(): { readonly digest: string; readonly memberName: string } {
    if (this.#state.kind !== 'tail' || this.#memberName === undefined) {
      throw new UnbundleStop({
        reason: 'stream-corrupt',
        stage: 'tar',
        detail:
          this.#memberName === undefined
            ? 'the stream holds no file'
            : 'the stream ends inside the file',
      });
    }
    return { digest: this.#hash.digest('hex'), memberName: this.#memberName };
  }

  #onHeader(): void {
    if (isZeroBlock(this.#header)) {
      throw new UnbundleStop({
        reason: 'stream-corrupt',
        stage: 'tar',
        detail: 'the archive ends before any file',
      });
    }
    const header = readTarHeader(this.#header);
    if (!header.ok) {
      throw new UnbundleStop({
        reason: 'stream-corrupt',
        stage: 'tar',
        detail: `bad header (${header.error})`,
      });
    }
    const { type, size, name } = header.value;
    if (
      (type === 'L' && size > LONG_NAME_LIMIT) ||
      ((type === 'x' || type === 'g') && size > PAX_LIMIT)
    )
      throw new UnbundleStop({
        reason: 'stream-corrupt',
        stage: 'tar',
        detail: `a '${type}' header of ${size} bytes (at most ${type === 'L' ? LONG_NAME_LIMIT : PAX_LIMIT} are accepted)`,
      });
    if (type === 'L') {
      this.#longName = [];
      this.#state =
        size === 0
          ? { kind: 'header' }
          : { kind: 'long-name', remaining: size, pad: padding(size) };
      return;
    }
    if (type === 'x' || type === 'g') {
      const skip = size + padding(size);
      this.#state =
        skip === 0 ? { kind: 'header' } : { kind: 'skip', remaining: skip, then: 'header' };
      return;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      throw new UnbundleStop({
        reason: 'tar-member-unsupported',
        typeflag: type === '\0' ? 'NUL' : type,
      });
    }
    if (size !== this.#expectedSize) {
      throw new UnbundleStop({
        reason: 'image-size-mismatch',
        expected: this.#expectedSize,
        actual: size,
      });
    }
    const longName = Buffer.concat(this.#longName).toString('utf8').replace(/\0.*$/s, '');
    this.#memberName = longName !== '' ? longName : name;
    this.#state = size === 0 ? { kind: 'tail', seen: 0 } : { kind: 'data', remaining: size };
  }
}
