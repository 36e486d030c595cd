// Reading a bundle's parts back in index order, checking each one's SHA-1 at its end (the
// failure names the part). Also used to find which part is damaged after a decryption or
// gzip error.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { BundleFailure } from './bundle-failure.js';
import { codeOf } from './fs-errors.js';
import type { ManifestPart } from './manifest.js';
import { UnbundleStop } from './tar-extractor.js';

const READ_SIZE = 1024 * 1024;

/** Reads the parts in order, checking each one's SHA-1 at its end. */
export async function* readParts(
  dir: string,
  parts: readonly ManifestPart[],
  count: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  for (const [index, part] of parts.entries()) {
    const hash = createHash('sha1');
    let file;
    try {
      file = await open(join(dir, part.filename), 'r');
    } catch (error) {
      throw new UnbundleStop({
        reason: 'part-unreadable',
        index,
        filename: part.filename,
        code: codeOf(error),
      });
    }
    try {
      for (;;) {
        const buffer = Buffer.allocUnsafe(READ_SIZE);
        const { bytesRead } = await file
          .read(buffer, 0, READ_SIZE, null)
          .catch((error: unknown) => {
            throw new UnbundleStop({
              reason: 'part-unreadable',
              index,
              filename: part.filename,
              code: codeOf(error),
            });
          });
        if (bytesRead === 0) break;
        const data = buffer.subarray(0, bytesRead);
        hash.update(data);
        count(bytesRead);
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
): Promise<BundleFailure | undefined> {
  try {
    for await (const _ of readParts(dir, parts, () => undefined)) {
      // Only the digests matter here.
    }
  } catch (error) {
    if (error instanceof UnbundleStop) return error.failure;
  }
  return undefined;
}
