// unbundle: the reverse of bundleImage, with every check a cloud could make — signature,
// key, each part's SHA-1, the tar stream's SHA-1 and the size (spec §2, §5). The image is
// written to a temporary file and renamed only when all checks pass; a refused bundle
// leaves nothing behind.
import { createDecipheriv } from 'node:crypto';
import { lstat, mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fsyncDirectory, temporaryPath } from '../core/atomic-write.js';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { BundleFailure } from './bundle-failure.js';
import { forgetTemporary, trackTemporary } from './exit-cleanup.js';
import { firstPartMismatch, readParts } from './part-reader.js';
import { fileKind } from './regular-file.js';
import {
  prepareUnbundle,
  type SignatureOutcome,
  type UnbundleCheckOptions,
} from './unbundle-checks.js';
import { codeOf } from './fs-errors.js';
import type { ManifestPart } from './manifest.js';
import type { ParsedManifest } from './manifest-read.js';
import { SparseFileWriter } from './sparse-file-writer.js';
import { TarExtractor, UnbundleStop } from './tar-extractor.js';

export interface UnbundleOptions extends UnbundleCheckOptions {
  /** Directory holding the parts; default the manifest's directory. */
  readonly partsDir?: string;
  /** Where the image is written, as `<image><name>`; created if missing. */
  readonly destDir: string;
}

export interface UnbundleResult {
  readonly imagePath: string;
  readonly size: number;
  /** Which wrapped copy of the key the private key opened. */
  readonly keySource: 'user' | 'cloud';
  readonly signature: SignatureOutcome;
  readonly manifest: ParsedManifest;
}

const READ_SIZE = 1024 * 1024;

/**
 * Verifies and unpacks a bundle. Order of checks: manifest syntax, private key, key
 * unwrapping (user copy, then cloud copy, as euca2ools), signature, presence of every part;
 * then while streaming: each part's SHA-1, decryption, gzip, the tar member's size; at the
 * end the tar stream's SHA-1 and the bundled size. The first failing check is returned.
 */
export async function unbundle(
  options: UnbundleOptions,
  task: TaskContext,
): Promise<Result<UnbundleResult, BundleFailure>> {
  const prepared = await prepareUnbundle(options);
  if (!prepared.ok) return prepared;
  const { manifest, key, iv, keySource, signature } = prepared.value;
  task.log(
    `manifest ${options.manifestPath}: ${manifest.image.type} image ${manifest.image.name}, ${manifest.image.size} bytes in ${manifest.image.parts.length} parts; key from the ${keySource === 'user' ? 'user' : 'cloud'} copy; signature ${signature}`,
  );
  const partsDir = options.partsDir ?? dirname(options.manifestPath);
  const parts = manifest.image.parts;
  const present = await checkPartsPresent(partsDir, parts);
  if (!present.ok) return present;
  let created: string | undefined;
  try {
    created = await mkdir(options.destDir, { recursive: true });
  } catch (error) {
    return err({ reason: 'output-error', path: options.destDir, code: codeOf(error) });
  }
  const imagePath = join(options.destDir, manifest.image.name);
  // A fresh name, created new (never a file or symlink already there); only once it was
  // created is it ours to remove.
  const tempPath = temporaryPath(imagePath);
  let writer: SparseFileWriter | undefined;
  let tempCreated = false;
  let failure: BundleFailure | undefined;
  let bundledSize = 0;
  try {
    writer = await SparseFileWriter.create(tempPath);
    tempCreated = true;
    trackTemporary(tempPath);
    const { digest } = await streamImage(writer, {
      partsDir,
      manifest,
      key,
      iv,
      task,
      count: (n) => (bundledSize += n),
    });
    if (bundledSize !== manifest.image.bundledSize)
      failure = {
        reason: 'bundled-size-mismatch',
        expected: manifest.image.bundledSize,
        actual: bundledSize,
      };
    else if (digest !== manifest.image.digest)
      failure = {
        reason: 'image-digest-mismatch',
        expected: manifest.image.digest,
        actual: digest,
      };
    else {
      await writer.finish();
      writer = undefined;
      const size = manifest.image.size;
      task.progress({ done: size, total: size, unit: 'bytes', message: 'unbundling' });
      await rename(tempPath, imagePath);
      forgetTemporary(tempPath);
      await fsyncDirectory(options.destDir);
      return ok({ imagePath, size, keySource, signature, manifest });
    }
  } catch (error) {
    failure = await explain(error, {
      partsDir,
      parts,
      limit: manifest.image.bundledSize,
      tempPath,
      signal: task.signal,
    });
  } finally {
    await writer?.abort();
  }
  if (tempCreated) {
    await unlink(tempPath).catch(() => undefined);
    forgetTemporary(tempPath);
  }
  if (created !== undefined) await removeCreatedDirs(options.destDir, created);
  return err(failure);
}

/** Every part is there and a regular file itself (lstat: not a link to one, or to /dev/zero). */
async function checkPartsPresent(
  partsDir: string,
  parts: readonly ManifestPart[],
): Promise<Result<void, BundleFailure>> {
  for (const [index, part] of parts.entries()) {
    // readParts checks again on the open file, so a swap after this check is caught too.
    const found = await lstat(join(partsDir, part.filename)).catch((error: unknown) =>
      codeOf(error),
    );
    if (found === 'ENOENT')
      return err({ reason: 'part-missing', index, filename: part.filename, dir: partsDir });
    if (typeof found === 'string')
      return err({ reason: 'part-unreadable', index, filename: part.filename, code: found });
    const kind = fileKind(found);
    if (kind !== undefined)
      return err({ reason: 'part-not-regular', index, filename: part.filename, kind });
  }
  return ok(undefined);
}

/**
 * The parts, each checked against its SHA-1, decrypted, gunzipped and untarred into `out`
 * (holes stay holes); resolves with the tar stream's SHA-1. Throws UnbundleStop (or the
 * stream's error) at the first problem.
 */
async function streamImage(
  out: SparseFileWriter,
  o: {
    partsDir: string;
    manifest: ParsedManifest;
    key: Buffer;
    iv: Buffer;
    task: TaskContext;
    count: (bytes: number) => void;
  },
): Promise<{ digest: string }> {
  const { manifest, task } = o;
  let lastProgress = 0;
  const size = manifest.image.size;
  const extractor = new TarExtractor(
    {
      write: async (data) => {
        await out.write(data);
        const now = Date.now();
        if (now - lastProgress >= 250) {
          lastProgress = now;
          task.progress({ done: out.length, total: size, unit: 'bytes', message: 'unbundling' });
        }
      },
    },
    size,
  );
  const decipher = createDecipheriv('aes-128-cbc', o.key, o.iv);
  await pipeline(
    readParts(o.partsDir, manifest.image.parts, {
      limit: manifest.image.bundledSize,
      signal: task.signal,
      count: o.count,
    }),
    async function* decrypt(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        const plain = decipher.update(chunk);
        if (plain.length > 0) yield plain;
      }
      let last: Buffer;
      try {
        last = decipher.final();
      } catch (error) {
        throw new UnbundleStop({
          reason: 'stream-corrupt',
          stage: 'decrypt',
          detail: codeOf(error),
        });
      }
      if (last.length > 0) yield last;
    },
    createGunzip({ chunkSize: READ_SIZE }),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (task.signal.aborted) throw new UnbundleStop({ reason: 'canceled' });
        await extractor.push(chunk);
      }
    },
    { signal: task.signal },
  );
  return { digest: extractor.finish().digest };
}

/** Removes the directories mkdir -p made, innermost first, as long as they are empty. */
async function removeCreatedDirs(dir: string, first: string): Promise<void> {
  let current = resolve(dir);
  const top = resolve(first);
  for (;;) {
    const removed = await rmdir(current).then(
      () => true,
      () => false,
    );
    if (!removed || current === top || dirname(current) === current) return;
    current = dirname(current);
  }
}

/**
 * Turns a pipeline error into the failure to report. A corrupt part usually breaks
 * decryption or gzip before its own end is reached, so on those errors the parts are
 * hashed again and a part mismatch, when there is one, is reported instead.
 */
async function explain(
  error: unknown,
  context: {
    partsDir: string;
    parts: readonly ManifestPart[];
    limit: number;
    tempPath: string;
    signal: AbortSignal;
  },
): Promise<BundleFailure> {
  if (context.signal.aborted) return { reason: 'canceled' };
  let failure: BundleFailure;
  if (error instanceof UnbundleStop) failure = error.failure;
  else if (isZlibError(error))
    failure = { reason: 'stream-corrupt', stage: 'gunzip', detail: (error as Error).message };
  else if ((error as NodeJS.ErrnoException | undefined)?.code !== undefined)
    return { reason: 'output-error', path: context.tempPath, code: codeOf(error) };
  else throw error;
  if (
    failure.reason === 'stream-corrupt' ||
    failure.reason === 'tar-member-unsupported' ||
    failure.reason === 'image-size-mismatch'
  ) {
    const mismatch = await firstPartMismatch(context.partsDir, context.parts, context);
    if (mismatch !== undefined) return mismatch;
  }
  return failure;
}

function isZlibError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}
