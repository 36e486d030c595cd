// Decoding of `Content-Encoding: aws-chunked` request bodies (SigV4 streaming uploads,
// with or without chunk signatures and trailing checksums) into the object's bytes.
// Format: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { matchesSignature } from './signature-match.js';
import { chunkSignature, type VerifiedAuth } from './sigv4.js';

/** Thrown through the stream (as its error) when the body is malformed or a chunk signature is wrong. */
export class ChunkedBodyError extends Error {
  readonly code: 'IncompleteBody' | 'SignatureDoesNotMatch';
  constructor(code: 'IncompleteBody' | 'SignatureDoesNotMatch', message: string) {
    super(message);
    this.code = code;
  }
}

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * A Transform from aws-chunked framing to plain bytes. With `auth` (the request used
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD) every chunk signature is checked in sequence.
 */
export class AwsChunkedDecoder extends Transform {
  #state: State = 'header';
  #buffer: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #signature = '';
  #previous: string;
  #hash = createHash('sha256');
  readonly #auth: VerifiedAuth | undefined;
  /** Trailing headers (e.g. x-amz-checksum-crc32), lower-case names. */
  readonly trailers = new Map<string, string>();

  constructor(auth?: VerifiedAuth) {
    super();
    this.#auth = auth;
    this.#previous = auth?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#drain().then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error as Error);
      },
    );
  }

  override _flush(callback: TransformCallback): void {
    if (this.#state !== 'done' && !(this.#state === 'trailer' && this.#buffer.length === 0))
      callback(new ChunkedBodyError('IncompleteBody', 'The aws-chunked body ended early.'));
    else callback();
  }

  #line(): string | undefined {
    const end = this.#buffer.indexOf('\r\n');
    if (end < 0) {
      if (this.#buffer.length > 64 * 1024)
        throw new ChunkedBodyError('IncompleteBody', 'aws-chunked header too long');
      return undefined;
    }
    const line = this.#buffer.subarray(0, end).toString('latin1');
    this.#buffer = this.#buffer.subarray(end + 2);
    return line;
  }

  async #checkChunk(): Promise<void> {
    if (!this.#auth) return;
    const expected = await chunkSignature(this.#auth, this.#previous, this.#hash.digest('hex'));
    if (!matchesSignature(this.#signature.toLowerCase(), Buffer.from(expected, 'hex'), 'hex'))
      throw new ChunkedBodyError(
        'SignatureDoesNotMatch',
        'A chunk signature of the aws-chunked body does not match.',
      );
    this.#previous = expected;
    this.#hash = createHash('sha256');
  }

  /** Consumes what the buffer holds; waits only for chunk signatures (signed bodies). */
  async #drain(): Promise<void> {
    for (;;) {
      switch (this.#state) {
        case 'header': {
          const line = this.#line();
          if (line === undefined) return;
          const [sizeHex = '', ...params] = line.split(';');
          const size = Number.parseInt(sizeHex, 16);
          if (!/^[0-9a-fA-F]+$/.test(sizeHex) || !Number.isSafeInteger(size))
            throw new ChunkedBodyError(
              'IncompleteBody',
              `bad aws-chunked size line '${line.slice(0, 40)}'`,
            );
          this.#signature = params.find((p) => p.startsWith('chunk-signature='))?.slice(16) ?? '';
          if (this.#auth && this.#signature === '')
            throw new ChunkedBodyError('SignatureDoesNotMatch', 'A chunk has no chunk-signature.');
          this.#remaining = size;
          if (size === 0) {
            if (this.#auth) await this.#checkChunk();
            this.#state = 'trailer';
          } else this.#state = 'data';
          break;
        }
        case 'data': {
          if (this.#buffer.length === 0) return;
          const take = Math.min(this.#remaining, this.#buffer.length);
          const piece = this.#buffer.subarray(0, take);
          this.#buffer = this.#buffer.subarray(take);
          this.#remaining -= take;
          if (this.#auth) this.#hash.update(piece);
          this.push(piece);
          if (this.#remaining === 0) this.#state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          if (this.#buffer.length < 2) return;
          if (this.#buffer[0] !== 0x0d || this.#buffer[1] !== 0x0a)
            throw new ChunkedBodyError('IncompleteBody', 'aws-chunked data not followed by CRLF');
          this.#buffer = this.#buffer.subarray(2);
          if (this.#auth) await this.#checkChunk();
          this.#state = 'header';
          break;
        }
        case 'trailer': {
          const line = this.#line();
          if (line === undefined) return;
          if (line === '') {
            this.#state = 'done';
            break;
          }
          const colon = line.indexOf(':');
          if (colon > 0)
            this.trailers.set(
              line.slice(0, colon).trim().toLowerCase(),
              line.slice(colon + 1).trim(),
            );
          break;
        }
        case 'done':
          this.#buffer = Buffer.alloc(0);
          return;
      }
    }
  }
}
