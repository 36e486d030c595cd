// Reading a bundle's parts back in index order, checking each one's SHA-1 at its end (the
// failure names the part). Also used to find which part is damaged after a decryption or
// gzip error. Reads only regular files (a symlink to /dev/zero or a FIFO is refused, never
// read or waited on), never more than the manifest's bundled size, and stops on abort.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleFailure } from './bundle-failure.js';
import { codeOf } from './fs-errors.js';
import type { ManifestPart } from './manifest.js';
import { describeFileProblem, openRegularFile } from './regular-file.js';
import { UnbundleStop } from './tar-extractor.js';

const READ_SIZE = 1024 * 1024;

export interface ReadPartsOptions {
  /** The manifest's bundled size: reading more than this many bytes in all stops with a failure. */
  readonly limit: number;
  readonly signal: AbortSignal;
  /** Told the size of every chunk read. */
  readonly count?: (bytes: number) => void;
}

/**
 * Opens part `index` for reading if it is a regular file (a symlink is refused, a FIFO
 * never waited on); throws UnbundleStop otherwise.
 */
async function openPart(dir: string, index: number, part: ManifestPart): Promise<FileHandle> {
  const opened = await openRegularFile(join(dir, part.filename), { refuseLinks: true });
  if (opened.ok) return opened.value.handle;
  const problem = opened.error;
  throw new UnbundleStop(
    problem.problem === 'not-regular'
      ? { reason: 'part-not-regular', index, filename: part.filename, kind: problem.kind }
      : {
          reason: 'part-unreadable',
          index,
          filename: part.filename,
          code: describeFileProblem(problem),
        },
  );
}

/**
 * Reads the parts in order, checking each one's SHA-1 at its end. Throws UnbundleStop:
 * part-unreadable, part-not-regular, part-digest-mismatch, bundled-size-mismatch (more
 * than `limit` bytes; reading stops there) or canceled.
 */
export async function* readParts(
  dir: string,
  parts: readonly ManifestPart[],
  options: ReadPartsOptions,
): AsyncGenerator<Buffer> {
  const { limit, signal } = options;
  const stopIfAborted = (): void => {
    if (signal.aborted) throw new UnbundleStop({ reason: 'canceled' });
  };
  let total = 0;
  for (const [index, part] of parts.entries()) {
    stopIfAborted();
    const hash = createHash('sha1');
    const file = await openPart(dir, index, part);
    try {
      for (;;) {
        stopIfAborted();
        // One byte beyond the limit is enough to know the parts are too long.
        const want = Math.min(READ_SIZE, limit - total + 1);
        const buffer = Buffer.allocUnsafe(want);
        const { bytesRead } = await file.read(buffer, 0, want, null).catch((error: unknown) => {
          throw new UnbundleStop({
            reason: 'part-unreadable',
            index,
            filename: part.filename,
            code: codeOf(error),
          });
        });
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > limit)
          throw new UnbundleStop({
            reason: 'bundled-size-mismatch',
            expected: limit,
            actual: total,
            stoppedAt: { index, filename: part.filename },
          });
        const data = buffer.subarray(0, bytesRead);
        hash.update(data);
        options.count?.(bytesRead);
        yield data;
      }
    } finally {
      await file.close();
    }
    const actual = hash.digest('hex');
    if (actual !== part.digest)
      throw new UnbundleStop({
        reason: 'part-digest-mismatch',
        index,
        filename: part.filename,
        expected: part.digest,
        actual,
      });
  }
}

/** The first part whose SHA-1 does not match (or that cannot be read), if any. */
export async function firstPartMismatch(
  dir: string,
  parts: readonly ManifestPart[],
  options: ReadPartsOptions,
): Promise<BundleFailure | undefined> {
  try {
    for await (const _ of readParts(dir, parts, options)) {
      // Only the digests matter here.
    }
  } catch (error) {
    if (error instanceof UnbundleStop) return error.failure;
  }
  return undefined;
}
