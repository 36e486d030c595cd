// A request body written to a new file with its digests: MD5 (the ETag), SHA-1 (the
// bundle checks), SHA-256 when the client signed one, and its length; the announced
// digests and length are checked once the bytes are on disk. A refused or broken body
// leaves no file. Used for PutObject and UploadPart; where the file goes is the caller's.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { finished, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { err, ok, type Result } from '../core/result.js';
import { FILE_MODE } from './private-files.js';

/** What the client announced about a body, checked after writing it. */
export interface BodyExpectations {
  /** Hex MD5 the client announced (Content-MD5). */
  readonly expectedMd5?: string;
  /** Hex SHA-256 the client signed. */
  readonly expectedSha256?: string;
  /** Content-Length (or x-amz-decoded-content-length). */
  readonly expectedLength?: number;
  /** The most bytes the body may have: writing stops (EntityTooLarge) as soon as it has more. */
  readonly maxSize?: number;
}

export type BodyError =
  | { readonly code: 'BadDigest'; readonly expected: string; readonly got: string }
  | { readonly code: 'XAmzContentSHA256Mismatch'; readonly expected: string; readonly got: string }
  | { readonly code: 'IncompleteBody'; readonly expected: number; readonly got: number }
  | { readonly code: 'EntityTooLarge'; readonly limit: number }
  | { readonly code: 'Stream'; readonly cause: unknown };

/** A body on disk: its length and hex digests. */
export interface WrittenBody {
  readonly size: number;
  readonly md5: string;
  readonly sha1: string;
}

class TooLarge extends Error {}

/** Writes `body` to the new file `path` (mode 0600) and checks it against `expect`. */
export async function writeBodyFile(
  body: Readable,
  path: string,
  expect: BodyExpectations,
): Promise<Result<WrittenBody, BodyError>> {
  const md5 = createHash('md5');
  const sha1 = createHash('sha1');
  const sha256 = expect.expectedSha256 !== undefined ? createHash('sha256') : undefined;
  let size = 0;
  const limit = expect.maxSize;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (limit !== undefined && size > limit) {
        callback(new TooLarge());
        return;
      }
      md5.update(chunk);
      sha1.update(chunk);
      sha256?.update(chunk);
      callback(null, chunk);
    },
  });
  // Not pipeline(body, …): a refused body must not destroy the request (and with it the
  // connection the answer goes out on); it is only unpiped.
  finished(body, { writable: false }, (error) => {
    if (error) counter.destroy(error);
  });
  body.pipe(counter);
  try {
    await pipeline(counter, createWriteStream(path, { mode: FILE_MODE }));
  } catch (cause) {
    body.unpipe(counter);
    await unlink(path).catch(() => undefined);
    if (cause instanceof TooLarge && limit !== undefined)
      return err({ code: 'EntityTooLarge', limit });
    return err({ code: 'Stream', cause });
  }
  const fail = async (error: BodyError): Promise<Result<WrittenBody, BodyError>> => {
    await unlink(path).catch(() => undefined);
    return err(error);
  };
  if (expect.expectedLength !== undefined && size !== expect.expectedLength)
    return fail({ code: 'IncompleteBody', expected: expect.expectedLength, got: size });
  const etag = md5.digest('hex');
  if (expect.expectedMd5 !== undefined && expect.expectedMd5 !== etag)
    return fail({ code: 'BadDigest', expected: expect.expectedMd5, got: etag });
  if (sha256 !== undefined && expect.expectedSha256 !== undefined) {
    const got = sha256.digest('hex');
    if (got !== expect.expectedSha256)
      return fail({ code: 'XAmzContentSHA256Mismatch', expected: expect.expectedSha256, got });
  }
  return ok({ size, md5: etag, sha1: sha1.digest('hex') });
}
