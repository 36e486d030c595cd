// The checks of createBundleParts (bundle-parts.ts) before any heavy work: the options
// (prefix, architecture, account, part size, certificates, key and IV), the image and the
// destination directory, and which byte ranges of a sparse image hold data.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import { exec as realExec } from '../tools/exec.js';
import { listDataExtents, type DataExtent } from '../tools/seek-data.js';
import type { BundleFailure, BundleWarning } from './bundle-failure.js';
import {
  checkAccount,
  checkArchitecture,
  checkCertificate,
  checkHex128,
  checkPartSize,
  checkPrefix,
  DEFAULT_PART_SIZE,
} from './bundle-options.js';
import type { Exec } from '../tools/exec.js';
import type { BundlerInfo, ImageType } from './manifest.js';
import { statResult } from './fs-errors.js';

/** What createBundleParts is asked to do. */
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
  /**
   * Compression jobs allowed right now, asked before each chunk (at most `concurrency`): the
   * cores a run's other steps have not claimed, so a boot test's VM is not starved.
   */
  readonly cores?: () => number;
  /** fsync each part (default true). */
  readonly durable?: boolean;
  /** Store random-looking chunks instead of deflating them (default true; see ParallelGzip). */
  readonly storeIncompressible?: boolean;
}

/** The options, checked and with their defaults (random key and IV). */
export interface CheckedPartsOptions {
  readonly prefix: string;
  readonly arch: string;
  readonly account: string;
  readonly partSize: number;
  readonly userKey: KeyObject | undefined;
  readonly keyHex: string;
  readonly ivHex: string;
}

export function checkPartsOptions(
  options: BundlePartsOptions,
): Result<CheckedPartsOptions, BundleFailure> {
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
  return ok({
    prefix: prefix.value,
    arch: arch.value,
    account: account.value,
    partSize: partSize.value,
    userKey: userKey?.value,
    keyHex: keyHex.value,
    ivHex: ivHex.value,
  });
}

/** The image must be a regular file and the destination a directory. */
export async function checkImageAndDestination(
  options: BundlePartsOptions,
): Promise<Result<Stats, BundleFailure>> {
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
  return ok(image);
}

/**
 * The data extents of a sparse image (its holes are then not read); undefined for a dense
 * image or when they cannot be listed (a warning; every byte is read).
 */
export async function sparseExtents(
  options: BundlePartsOptions,
  image: Stats,
  task: TaskContext,
  warnings: BundleWarning[],
): Promise<Result<DataExtent[] | undefined, BundleFailure>> {
  const size = image.size;
  if (image.blocks * 512 >= size) return ok(undefined);
  const listed = await listDataExtents(options.imagePath, {
    exec: options.exec ?? realExec,
    signal: task.signal,
  });
  if (listed.ok && listed.value.size === size) {
    const extents = listed.value.extents;
    const dataBytes = extents.reduce((sum, e) => sum + e.end - e.start, 0);
    task.log(
      `sparse image: ${dataBytes} of ${size} bytes hold data (${extents.length} extents); holes are not read`,
    );
    return ok(extents);
  }
  if (task.signal.aborted) return err({ reason: 'canceled' });
  const detail = listed.ok ? 'the file changed size' : listed.error.reason;
  warnings.push({ reason: 'sparse-map-unavailable', detail });
  task.log(`could not list holes (${detail}); reading every byte`);
  return ok(undefined);
}
