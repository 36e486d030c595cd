// Phase one of bundling: image → tar → gzip (parallel) → AES-128-CBC → parts, with the
// tar stream's SHA-1 and each part's SHA-1 (spec §2.3–§2.8). Produces a BundleParts record
// holding everything the manifest needs except the machine configuration and signature;
// it holds only the RSA-wrapped key and IV, never the AES key itself.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import { exec as realExec, type Exec } from '../tools/exec.js';
import { listDataExtents, type DataExtent } from '../tools/seek-data.js';
import type { BundleFailure, BundleWarning } from './bundle-failure.js';
import { codeOf, statResult } from './fs-errors.js';
import {
  checkAccount,
  checkArchitecture,
  checkCertificate,
  checkHex128,
  checkPartSize,
  checkPrefix,
  DEFAULT_PART_SIZE,
  publicKeyId,
} from './bundle-options.js';
import type { BundlerInfo, ImageType } from './manifest.js';
import { PartWriter, type WrittenPart } from './part-writer.js';
import { encryptForCertificate } from './rsa.js';
import { ImageShrankError, TarSource } from './tar-source.js';
import { GZIP_CHUNK, SideError, streamBundle } from './bundle-pipeline.js';

const TEN_GIB = 10 * 1024 ** 3;

export interface BundlePartsOptions {
  readonly imagePath: string;
  /** Existing directory that receives the parts. */
  readonly destDir: string;
  /** Base name of every bundle file and the image name in the manifest; default basename(imagePath). */
  readonly prefix?: string;
  readonly imageType: ImageType;
  /** One of ARCHITECTURES. */
  readonly arch: string;
  /** Account id; dashes are removed. */
  readonly account: string;
  /** Without it the user_encrypted_* elements are empty (as euca2ools without -c). */
  readonly userCertPem?: string;
  readonly cloudCertPem: string;
  /** Default 10485760. */
  readonly partSize?: number;
  /** Fixed key and IV (32 hex digits each), as euca2ools' hidden --enc-key/--enc-iv; default random. */
  readonly encryption?: { readonly keyHex: string; readonly ivHex: string };
  /** Default {name: 'emi-recipe', version: <package version>, release: '0'}. */
  readonly bundler?: BundlerInfo;
  /** Lists the image's holes (perl); injectable for tests. */
  readonly exec?: Exec;
  /** Chunks compressed at once; default the CPU count, at most the thread pool size − 1. */
  readonly concurrency?: number;
  /** fsync each part (default true). */
  readonly durable?: boolean;
  /** Store random-looking chunks instead of deflating them (default true; see ParallelGzip). */
  readonly storeIncompressible?: boolean;
}

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
  const prefix = checkPrefix(options.prefix ?? basename(options.imagePath));
  if (!prefix.ok) return prefix;
  const arch = checkArchitecture(options.arch);
  if (!arch.ok) return arch;
  const account = checkAccount(options.account);
  if (!account.ok) return account;
  const partSize = checkPartSize(options.partSize ?? DEFAULT_PART_SIZE);
  if (!partSize.ok) return partSize;
  const cloudKey = checkCertificate('cloud', options.cloudCertPem);
  if (!cloudKey.ok) return cloudKey;
  const userKey =
    options.userCertPem === undefined ? undefined : checkCertificate('user', options.userCertPem);
  if (userKey !== undefined && !userKey.ok) return userKey;
  const keyHex = checkHex128(
    'encryption.keyHex',
    options.encryption?.keyHex ?? randomBytes(16).toString('hex'),
  );
  if (!keyHex.ok) return keyHex;
  const ivHex = checkHex128(
    'encryption.ivHex',
    options.encryption?.ivHex ?? randomBytes(16).toString('hex'),
  );
  if (!ivHex.ok) return ivHex;

  const imageStat = await statResult(options.imagePath);
  if (!imageStat.ok)
    return err({ reason: 'image-unreadable', path: options.imagePath, code: imageStat.error });
  const image = imageStat.value;
  if (!image.isFile())
    return err({ reason: 'image-unreadable', path: options.imagePath, code: 'not a regular file' });
  const dest = await statResult(options.destDir);
  if (!dest.ok) return err({ reason: 'output-error', path: options.destDir, code: dest.error });
  if (!dest.value.isDirectory())
    return err({ reason: 'output-error', path: options.destDir, code: 'ENOTDIR' });

  const size = image.size;
  const warnings: BundleWarning[] = [];
  if (size > TEN_GIB) {
    warnings.push({ reason: 'image-over-10-gib', size });
    task.log(
      `warning: the image is ${size} bytes (> 10 GiB); EC2 refuses such bundles and Eucalyptus may too`,
    );
  }
  let extents: DataExtent[] | undefined;
  if (image.blocks * 512 < size) {
    const listed = await listDataExtents(options.imagePath, {
      exec: options.exec ?? realExec,
      signal: task.signal,
    });
    if (listed.ok && listed.value.size === size) {
      extents = listed.value.extents;
      const dataBytes = extents.reduce((sum, e) => sum + e.end - e.start, 0);
      task.log(
        `sparse image: ${dataBytes} of ${size} bytes hold data (${extents.length} extents); holes are not read`,
      );
    } else if (task.signal.aborted) {
      return err({ reason: 'canceled' });
    } else {
      const detail = listed.ok ? 'the file changed size' : listed.error.reason;
      warnings.push({ reason: 'sparse-map-unavailable', detail });
      task.log(`could not list holes (${detail}); reading every byte`);
    }
  }

  const bundler = options.bundler ?? (await defaultBundler());
  const wrap = (text: string, certPem: string): string => encryptForCertificate(text, certPem);
  const ec2EncryptedKey = wrap(keyHex.value, options.cloudCertPem);
  const ec2EncryptedIv = wrap(ivHex.value, options.cloudCertPem);
  const userEncryptedKey =
    options.userCertPem === undefined ? '' : wrap(keyHex.value, options.userCertPem);
  const userEncryptedIv =
    options.userCertPem === undefined ? '' : wrap(ivHex.value, options.userCertPem);

  const writer = new PartWriter({
    dir: options.destDir,
    prefix: prefix.value,
    partSize: partSize.value,
    ...(options.durable !== undefined ? { durable: options.durable } : {}),
  });
  let source: TarSource | undefined;
  try {
    source = await TarSource.open({
      imagePath: options.imagePath,
      name: prefix.value,
      size,
      extents,
      chunkSize: GZIP_CHUNK,
    }).catch((error: unknown) => {
      throw new SideError('image', error);
    });
    const digest = await streamBundle(source, writer, {
      key: Buffer.from(keyHex.value, 'hex'),
      iv: Buffer.from(ivHex.value, 'hex'),
      concurrency: options.concurrency ?? defaultConcurrency(),
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
    await removeStaleFiles(options.destDir, prefix.value, parts.length).catch((error: unknown) => {
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
      prefix: prefix.value,
      imageType: options.imageType,
      architecture: arch.value,
      account: account.value,
      imageSize: size,
      digest,
      bundledSize: parts.reduce((sum, part) => sum + part.size, 0),
      parts,
      ec2EncryptedKey,
      ec2EncryptedIv,
      userEncryptedKey,
      userEncryptedIv,
      bundler,
      ...(userKey !== undefined ? { userPublicKeyId: publicKeyId(userKey.value) } : {}),
      warnings,
    });
  } catch (error) {
    await writer.abort();
    if (error instanceof SideError && error.original instanceof ImageShrankError) {
      const now = await stat(options.imagePath).catch(() => undefined);
      return err({
        reason: 'image-changed',
        path: options.imagePath,
        expectedSize: size,
        actualSize: now?.size ?? 0,
      });
    }
    if (error instanceof SideError && error.side === 'image')
      return err({
        reason: 'image-unreadable',
        path: options.imagePath,
        code: codeOf(error.original),
      });
    if (error instanceof SideError) {
      const path = (error.original as NodeJS.ErrnoException | undefined)?.path ?? options.destDir;
      return err({ reason: 'output-error', path, code: codeOf(error.original) });
    }
    throw error;
  } finally {
    await source?.close().catch(() => undefined);
  }
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
