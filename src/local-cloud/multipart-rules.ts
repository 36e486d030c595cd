// S3's rules for completing a multipart upload, as pure functions: the part list must be
// in strictly ascending order, name uploaded parts by their ETags, and every part but the
// last must have at least 5 MiB; the object's ETag is the MD5 of the parts' binary MD5s
// followed by `-<number of parts>`. Also the bounds of a part number. No I/O.
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';

/** S3's smallest part (all but the last), in bytes. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part number. */
export const MAX_PART_NUMBER = 10_000;

/** A part the client names in CompleteMultipartUpload. */
export interface RequestedPart {
  readonly partNumber: number;
  /** As sent (quotes removed). */
  readonly etag: string;
}

/** A part on disk. */
export interface StoredPart {
  readonly partNumber: number;
  /** MD5 hex, no quotes. */
  readonly etag: string;
  readonly size: number;
}

export type CompletionError =
  | { readonly code: 'InvalidPartOrder' }
  | { readonly code: 'InvalidPart'; readonly partNumber: number; readonly etag: string }
  | {
      readonly code: 'EntityTooSmall';
      readonly partNumber: number;
      readonly etag: string;
      readonly size: number;
      readonly minSize: number;
    };

/** The part number of `?partNumber=`, or undefined unless an integer 1–10000. */
export function parsePartNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_PART_NUMBER ? n : undefined;
}

/**
 * The stored parts that make the object, in order, when `requested` is a valid completion
 * of an upload holding `stored`. Checked as S3 does: order first, then each part's
 * existence and ETag, then sizes (all but the last at least `minSize`).
 */
export function validateCompletion<P extends StoredPart>(
  requested: readonly RequestedPart[],
  stored: ReadonlyMap<number, P>,
  minSize = MIN_PART_SIZE,
): Result<readonly P[], CompletionError> {
  for (let i = 1; i < requested.length; i++)
    if ((requested[i]?.partNumber ?? 0) <= (requested[i - 1]?.partNumber ?? 0))
      return err({ code: 'InvalidPartOrder' });
  const parts: P[] = [];
  for (const want of requested) {
    const part = stored.get(want.partNumber);
    if (part?.etag !== want.etag.toLowerCase())
      return err({ code: 'InvalidPart', partNumber: want.partNumber, etag: want.etag });
    parts.push(part);
  }
  for (const part of parts.slice(0, -1))
    if (part.size < minSize)
      return err({
        code: 'EntityTooSmall',
        partNumber: part.partNumber,
        etag: part.etag,
        size: part.size,
        minSize,
      });
  return ok(parts);
}

/** A multipart object's ETag: MD5 of the concatenated binary part MD5s, `-N`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${String(partEtags.length)}`;
}
