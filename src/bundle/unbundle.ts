// unbundle: the reverse of bundleImage, with every check a cloud could make — signature,
// key, each part's SHA-1, the tar stream's SHA-1 and the size (spec §2, §5). The image is
// written to a temporary file and renamed only when all checks pass; a refused bundle
// leaves nothing behind.
import { createDecipheriv, createHash, createPublicKey } from 'node:crypto';
import { mkdir, open, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fsyncDirectory } from '../core/atomic-write.js';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { BundleFailure } from './bundle-failure.js';
import { checkCertificate, checkPrivateKey } from './bundle-options.js';
import { forgetTemporary, trackTemporary } from './exit-cleanup.js';
import { codeOf, statResult } from './fs-errors.js';
import {
  parseManifest,
  verifyManifestSignature,
  type ManifestPart,
  type ParsedManifest,
} from './manifest.js';
import { decryptWithPrivateKey } from './rsa.js';
import { SparseFileWriter } from './sparse-file-writer.js';
import { TarExtractor, UnbundleStop } from './tar-extractor.js';

export interface UnbundleOptions {
  readonly manifestPath: string;
  /** Directory holding the parts; default the manifest's directory. */
  readonly partsDir?: string;
  /** The user's private key (user_encrypted_*) or the cloud's (ec2_encrypted_*), PEM. */
  readonly privateKeyPem: string;
  /** How to name the key in messages (e.g. its file name). */
  readonly privateKeyName?: string;
  /** Verify the signature against this certificate (PEM). */
  readonly certPem?: string;
  /** How to name the certificate in messages (e.g. its file name). */
  readonly certName?: string;
  /** Accept a manifest whose signature is `UNSIGNED` (default: refuse). */
  readonly allowUnsigned?: boolean;
  /** Where the image is written, as `<image><name>`; created if missing. */
  readonly destDir: string;
}

export interface UnbundleResult {
  readonly imagePath: string;
  readonly size: number;
  /** Which wrapped copy of the key the private key opened. */
  readonly keySource: 'user' | 'cloud';
  /**
   * `verified`: against certPem, or, without it, against the public half of the user key.
   * `not-checked`: the cloud key opened the bundle and no certificate was given.
   */
  readonly signature: 'verified' | 'not-checked' | 'unsigned';
  readonly manifest: ParsedManifest;
}

const READ_SIZE = 1024 * 1024;
const MANIFEST_MAX = 5 * 1024 * 1024;
const HEX32 = /^[0-9a-fA-F]{32}$/;

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
  const prepared = await prepare(options);
  if (!prepared.ok) return prepared;
  const { manifest, key, iv, keySource, signature } = prepared.value;
  const partsDir = options.partsDir ?? dirname(options.manifestPath);
  const parts = manifest.image.parts;
  for (const [index, part] of parts.entries()) {
    const found = await statResult(join(partsDir, part.filename));
    if (!found.ok && found.error === 'ENOENT')
      return err({ reason: 'part-missing', index, filename: part.filename, dir: partsDir });
    if (!found.ok)
      return err({
        reason: 'part-unreadable',
        index,
        filename: part.filename,
        code: found.error,
      });
  }
  let created: string | undefined;
  try {
    created = await mkdir(options.destDir, { recursive: true });
  } catch (error) {
    return err({ reason: 'output-error', path: options.destDir, code: codeOf(error) });
  }
  const imagePath = join(options.destDir, manifest.image.name);
  const tempPath = join(options.destDir, `.${manifest.image.name}.tmp-${process.pid}`);
  let writer: SparseFileWriter | undefined;
  let failure: BundleFailure | undefined;
  let bundledSize = 0;
  try {
    trackTemporary(tempPath);
    writer = await SparseFileWriter.create(tempPath);
    const out = writer;
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
    const decipher = createDecipheriv('aes-128-cbc', key, iv);
    await pipeline(
      readParts(partsDir, parts, (n) => (bundledSize += n)),
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
        for await (const chunk of source) await extractor.push(chunk);
      },
      { signal: task.signal },
    );
    const { digest } = extractor.finish();
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
      task.progress({ done: size, total: size, unit: 'bytes', message: 'unbundling' });
      await rename(tempPath, imagePath);
      forgetTemporary(tempPath);
      await fsyncDirectory(options.destDir);
      return ok({ imagePath, size, keySource, signature, manifest });
    }
  } catch (error) {
    failure = await explain(error, { partsDir, parts, tempPath, signal: task.signal });
  } finally {
    await writer?.abort();
  }
  await unlink(tempPath).catch(() => undefined);
  forgetTemporary(tempPath);
  if (created !== undefined) await removeCreatedDirs(options.destDir, created);
  return err(failure);
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

interface Prepared {
  readonly manifest: ParsedManifest;
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly keySource: 'user' | 'cloud';
  readonly signature: UnbundleResult['signature'];
}

/** Manifest, key unwrapping and signature: everything checked before any part is read. */
async function prepare(options: UnbundleOptions): Promise<Result<Prepared, BundleFailure>> {
  const privateKey = checkPrivateKey(options.privateKeyPem);
  if (!privateKey.ok) return privateKey;
  let text: string;
  try {
    const info = await stat(options.manifestPath);
    if (info.size > MANIFEST_MAX)
      return err({
        reason: 'manifest-invalid',
        field: '(document)',
        problem: `larger than ${MANIFEST_MAX} bytes`,
      });
    text = await readFile(options.manifestPath, 'latin1');
  } catch (error) {
    return err({ reason: 'manifest-unreadable', path: options.manifestPath, code: codeOf(error) });
  }
  const parsed = parseManifest(text);
  if (!parsed.ok) return parsed;
  const manifest = parsed.value;
  const name = manifest.image.name;
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name))
    return err({
      reason: 'manifest-invalid',
      field: 'image/name',
      problem: `not a plain file name: '${name}'`,
    });

  const tried: ('user' | 'cloud')[] = [];
  let unwrapped: { key: string; iv: string; source: 'user' | 'cloud' } | undefined;
  const copies = [
    {
      source: 'user' as const,
      key: manifest.image.userEncryptedKey,
      iv: manifest.image.userEncryptedIv,
    },
    {
      source: 'cloud' as const,
      key: manifest.image.ec2EncryptedKey,
      iv: manifest.image.ec2EncryptedIv,
    },
  ];
  for (const copy of copies) {
    if (copy.key === '' || copy.iv === '') continue;
    tried.push(copy.source);
    const k = decryptWithPrivateKey(copy.key.trim(), options.privateKeyPem);
    const i = decryptWithPrivateKey(copy.iv.trim(), options.privateKeyPem);
    if (k.ok && i.ok && HEX32.test(k.value) && HEX32.test(i.value)) {
      unwrapped = { key: k.value, iv: i.value, source: copy.source };
      break;
    }
  }
  if (unwrapped === undefined) return err({ reason: 'key-undecryptable', tried });

  let signature: UnbundleResult['signature'];
  if (manifest.signature === 'UNSIGNED') {
    if (options.allowUnsigned !== true)
      return err({ reason: 'manifest-unsigned', path: options.manifestPath });
    signature = 'unsigned';
  } else if (options.certPem !== undefined) {
    const cert = checkCertificate('verify', options.certPem);
    if (!cert.ok) return cert;
    if (!verifyManifestSignature(manifest, options.certPem))
      return err({
        reason: 'signature-invalid',
        against: options.certName ?? 'the given certificate',
      });
    signature = 'verified';
  } else if (unwrapped.source === 'user') {
    // The user key opened its own copy of the key, so it is the bundler's key: its public
    // half must verify the signature.
    const publicPem = createPublicKey(privateKey.value)
      .export({ type: 'spki', format: 'pem' })
      .toString();
    if (!verifyManifestSignature(manifest, publicPem))
      return err({
        reason: 'signature-invalid',
        against: `the public key of ${options.privateKeyName ?? 'the private key'}`,
      });
    signature = 'verified';
  } else {
    signature = 'not-checked';
  }
  return ok({
    manifest,
    key: Buffer.from(unwrapped.key, 'hex'),
    iv: Buffer.from(unwrapped.iv, 'hex'),
    keySource: unwrapped.source,
    signature,
  });
}

/** Reads the parts in order, checking each one's SHA-1 at its end. */
async function* readParts(
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
    const mismatch = await firstPartMismatch(context.partsDir, context.parts);
    if (mismatch !== undefined) return mismatch;
  }
  return failure;
}

function isZlibError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

async function firstPartMismatch(
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
