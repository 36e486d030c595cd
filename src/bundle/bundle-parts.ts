// Phase one of bundling: image → tar → gzip (parallel) → AES-128-CBC → parts, with the
// tar stream's SHA-1 and each part's SHA-1 (spec §2.3–§2.8). Produces a BundleParts record
// holding everything the manifest needs except the machine configuration and signature;
// it holds only the RSA-wrapped key and IV, never the AES key itself.
import { availableParallelism } from 'node:os';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { BundleFailure, BundleWarning } from './bundle-failure.js';
import { codeOf } from './fs-errors.js';
import { publicKeyId } from './bundle-options.js';
import {
  type BundlePartsOptions,
  checkImageAndDestination,
  checkPartsOptions,
  sparseExtents,
} from './bundle-parts-input.js';
import type { BundlerInfo, ImageType } from './manifest.js';
import { PartWriter, type WrittenPart } from './part-writer.js';
import { encryptForCertificate } from './rsa.js';
import { ImageShrankError, TarSource } from './tar-source.js';
import { GZIP_CHUNK, SideError, streamBundle } from './bundle-pipeline.js';

const TEN_GIB = 10 * 1024 ** 3;

export type { BundlePartsOptions } from './bundle-parts-input.js';

/**
 * The bundle minus its machine configuration and signature: JSON-serialisable, stored
 * between runs. `parts` are file names in the directory the parts were written to.
 */
export interface BundleParts {
  readonly formatVersion: 1;
  readonly prefix: string;
  readonly imageType: ImageType;
  readonly architecture: string;
  /** Account id, digits only. */
  readonly account: string;
  readonly imageSize: number;
  /** Lower-case hex SHA-1 of the tar stream (the manifest's `<digest>`). */
  readonly digest: string;
  /** Sum of part sizes = ciphertext length. */
  readonly bundledSize: number;
  readonly parts: readonly WrittenPart[];
  readonly ec2EncryptedKey: string;
  readonly ec2EncryptedIv: string;
  /** Empty when no user certificate was given. */
  readonly userEncryptedKey: string;
  readonly userEncryptedIv: string;
  readonly bundler: BundlerInfo;
  /** publicKeyId() of the user certificate, so that the signing key can be checked later. */
  readonly userPublicKeyId?: string;
  readonly warnings: readonly BundleWarning[];
}

/** The package's own bundler identity (name, version from package.json, release 0). */
export async function defaultBundler(): Promise<BundlerInfo> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return {
    name: 'emi-recipe',
    version: (JSON.parse(text) as { version: string }).version,
    release: '0',
  };
}

/** Compression jobs at once: the CPUs, leaving one thread-pool thread for file I/O. */
export function defaultConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool - 1));
}

/**
 * Writes PREFIX.part.NN into `destDir` (under temporary names until all are complete,
 * then renamed; a stale PREFIX.manifest.xml and stale higher-numbered parts there are
 * removed) and returns the record for writeBundleManifest. On failure or abort, nothing
 * of the new bundle is left behind. Memory stays bounded (a few MiB per thread) whatever
 * the image size; holes of a sparse image are not read.
 */
export async function createBundleParts(
  options: BundlePartsOptions,
  task: TaskContext,
): Promise<Result<BundleParts, BundleFailure>> {
  const checked = checkPartsOptions(options);
  if (!checked.ok) return checked;
  const { prefix, arch, account, partSize, userKey, keyHex, ivHex } = checked.value;
  const input = await checkImageAndDestination(options);
  if (!input.ok) return input;
  const image = input.value;
  const size = image.size;
  const warnings: BundleWarning[] = [];
  if (size > TEN_GIB) {
    warnings.push({ reason: 'image-over-10-gib', size });
    task.log(
      `warning: the image is ${size} bytes (> 10 GiB); EC2 refuses such bundles and Eucalyptus may too`,
    );
  }
  const sparse = await sparseExtents(options, image, task, warnings);
  if (!sparse.ok) return sparse;
  const extents = sparse.value;

  const bundler = options.bundler ?? (await defaultBundler());
  const keys = wrappedKeys(options, keyHex, ivHex);
  const writer = new PartWriter({
    dir: options.destDir,
    prefix,
    partSize,
    ...(options.durable !== undefined ? { durable: options.durable } : {}),
  });
  let source: TarSource | undefined;
  try {
    source = await TarSource.open({
      imagePath: options.imagePath,
      name: prefix,
      size,
      extents,
      chunkSize: GZIP_CHUNK,
    }).catch((error: unknown) => {
      throw new SideError('image', error);
    });
    const digest = await streamBundle(source, writer, {
      key: Buffer.from(keyHex, 'hex'),
      iv: Buffer.from(ivHex, 'hex'),
      concurrency: options.concurrency ?? defaultConcurrency(),
      ...(options.cores ? { limit: options.cores } : {}),
      storeIncompressible: options.storeIncompressible ?? true,
      size,
      task,
    });
    if (digest === undefined) {
      await writer.abort();
      return err({ reason: 'canceled' });
    }
    const parts = await writer.finish().catch((error: unknown) => {
      throw new SideError('output', error);
    });
    // A VM still writing to the image would make a bundle of a torn disk: refuse it.
    const after = await stat(options.imagePath).catch(() => undefined);
    if (after?.size !== size || after.mtimeMs !== image.mtimeMs) {
      await writer.abort();
      return err({
        reason: 'image-changed',
        path: options.imagePath,
        expectedSize: size,
        actualSize: after?.size ?? 0,
      });
    }
    await removeStaleFiles(options.destDir, prefix, parts.length).catch((error: unknown) => {
      throw new SideError('output', error);
    });
    await writer.commit().catch((error: unknown) => {
      throw new SideError('output', error);
    });
    task.log(
      `bundled ${size} bytes as ${parts.length} parts (${parts.reduce((n, p) => n + p.size, 0)} bytes) in ${options.destDir}`,
    );
    return ok({
      formatVersion: 1,
      prefix,
      imageType: options.imageType,
      architecture: arch,
      account,
      imageSize: size,
      digest,
      bundledSize: parts.reduce((sum, part) => sum + part.size, 0),
      parts,
      ...keys,
      bundler,
      ...(userKey !== undefined ? { userPublicKeyId: publicKeyId(userKey) } : {}),
      warnings,
    });
  } catch (error) {
    await writer.abort();
    const failure = await sideFailure(error, options.imagePath, options.destDir, size);
    if (failure === undefined) throw error;
    return err(failure);
  } finally {
    await source?.close().catch(() => undefined);
  }
}

/** The AES key and IV wrapped for the cloud's certificate and, when given, the user's. */
function wrappedKeys(
  options: BundlePartsOptions,
  keyHex: string,
  ivHex: string,
): Pick<
  BundleParts,
  'ec2EncryptedKey' | 'ec2EncryptedIv' | 'userEncryptedKey' | 'userEncryptedIv'
> {
  const user = options.userCertPem;
  return {
    ec2EncryptedKey: encryptForCertificate(keyHex, options.cloudCertPem),
    ec2EncryptedIv: encryptForCertificate(ivHex, options.cloudCertPem),
    userEncryptedKey: user === undefined ? '' : encryptForCertificate(keyHex, user),
    userEncryptedIv: user === undefined ? '' : encryptForCertificate(ivHex, user),
  };
}

/** A failure of the image or output side, as facts; undefined for anything else (a bug). */
async function sideFailure(
  error: unknown,
  imagePath: string,
  destDir: string,
  size: number,
): Promise<BundleFailure | undefined> {
  if (!(error instanceof SideError)) return undefined;
  if (error.original instanceof ImageShrankError) {
    const now = await stat(imagePath).catch(() => undefined);
    return {
      reason: 'image-changed',
      path: imagePath,
      expectedSize: size,
      actualSize: now?.size ?? 0,
    };
  }
  if (error.side === 'image')
    return { reason: 'image-unreadable', path: imagePath, code: codeOf(error.original) };
  const path = (error.original as NodeJS.ErrnoException | undefined)?.path ?? destDir;
  return { reason: 'output-error', path, code: codeOf(error.original) };
}

/**
 * Before new parts take their names: the old manifest would describe the wrong parts, and
 * parts numbered beyond the new count would look like part of the bundle.
 */
async function removeStaleFiles(dir: string, prefix: string, count: number): Promise<void> {
  await unlink(join(dir, `${prefix}.manifest.xml`)).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  });
  const stalePart = new RegExp(
    `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.part\\.(\\d+)$`,
  );
  for (const name of await readdir(dir)) {
    const match = stalePart.exec(name);
    if (match !== null && Number(match[1]) >= count) await unlink(join(dir, name));
  }
}
