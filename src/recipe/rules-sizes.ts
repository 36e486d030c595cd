// Sizes and durations: parsed here, once, and checked in range (the disk, swap, VM memory,
// the root file system with Eucalyptus' limits as warnings, bundle parts, timeouts, the store's
// lease). The
// numbers go on to normalize.ts, which never parses a size again. Part of rules.ts.
import type { ValuePath } from './source-map.js';
import type { Report, RuleContext } from './rule-context.js';
import { formatSize, parseDuration, parseSize } from './units.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

/** The default lease of apply's lock in an S3 store (`store.lease`, `--lease`). */
export const DEFAULT_STORE_LEASE_MS = 5 * 60_000;

/**
 * Every size of a recipe in bytes and every duration in ms, with the schema's defaults
 * applied where the recipe is silent. Made only by checkSizes, from a recipe whose sizes
 * all parsed and are in range.
 */
export interface RecipeSizes {
  readonly diskBytes: number;
  /** Default 0: no swap partition. */
  readonly swapBytes: number;
  /** The installer VM (ISO installs); defaults 1 GiB and 60 minutes. */
  readonly installVm: { readonly memoryBytes: number; readonly timeoutMs: number };
  /** Default: the disk size. */
  readonly rootfsBytes: number;
  /** Default 10 MiB (euca-bundle-image's part size). */
  readonly partSizeBytes: number;
  /** The boot test's VM; defaults 1 GiB and 5 minutes. */
  readonly test: { readonly memoryBytes: number; readonly timeoutMs: number };
  /** How long rc.local tries the metadata service for the SSH key; default 60 s. */
  readonly metadataKeyTimeoutMs: number;
  /** The lease of apply's lock in an S3 store; default 5 minutes. */
  readonly storeLeaseMs: number;
}

/**
 * Parses and checks every size and duration of the recipe, reporting each bad one at its
 * place. Returns the numbers when all of them are good, else undefined (then there is an
 * error for each bad value, and no model is built).
 */
export function checkSizes(context: RuleContext, report: Report): RecipeSizes | undefined {
  const raw = context.raw;
  let allGood = true;
  /** Bytes, or undefined when not written or not good (then reported). */
  const size = (
    path: ValuePath,
    value: string | number | undefined,
    min: number,
    max: number,
  ): number | undefined => {
    if (value === undefined) return undefined;
    const bytes = parseSize(value);
    if (bytes === undefined) {
      allGood = false;
      report('error', path, `expected a whole number of bytes, got '${String(value)}'`);
      return undefined;
    }
    if (bytes < min || bytes > max) {
      allGood = false;
      report(
        'error',
        path,
        `expected a size between ${formatSize(min)} and ${formatSize(max)}, got ${formatSize(bytes)}`,
      );
      return undefined;
    }
    return bytes;
  };
  /** Milliseconds, or undefined when not written or not good (then reported). */
  const duration = (path: ValuePath, value: string | number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms < 1000) {
      allGood = false;
      report('error', path, `expected a duration of at least 1s, got '${String(value)}'`);
      return undefined;
    }
    return ms;
  };
  const disk = size(['disk', 'size'], raw.disk?.size, 64 * MiB, 2 * TiB);
  const swap = size(['install', 'swap'], raw.install?.swap, 0, 64 * GiB);
  if (disk !== undefined && swap !== undefined && swap > disk - 64 * MiB) {
    allGood = false;
    report(
      'error',
      ['install', 'swap'],
      `leaves less than 64 MiB of the ${formatSize(disk)} disk for the root file system`,
    );
  }
  const vmMemory = size(
    ['install', 'vm', 'memory'],
    raw.install?.vm?.memory,
    128 * MiB,
    1024 * GiB,
  );
  const vmTimeout = duration(['install', 'vm', 'timeout'], raw.install?.vm?.timeout);
  const rootfs =
    size(['extract', 'rootfsSize'], raw.extract?.rootfsSize, 64 * MiB, 2 * TiB) ?? disk;
  warnAboutRootfsSize(context, report, rootfs);
  const partSize = size(['bundle', 'partSize'], raw.bundle?.partSize, 1024, 5 * GiB);
  const testMemory = size(['test', 'memory'], raw.test?.memory, 128 * MiB, 1024 * GiB);
  const testTimeout = duration(['test', 'timeout'], raw.test?.timeout);
  const keyTimeout = duration(
    ['customize', 'rcLocal', 'metadataSshKey', 'timeout'],
    raw.customize?.rcLocal?.metadataSshKey?.timeout,
  );
  const storeLease = duration(['store', 'lease'], raw.store?.lease);
  // Below, undefined means "not written": every written value parsed (allGood).
  if (!allGood || disk === undefined) return undefined;
  return {
    diskBytes: disk,
    swapBytes: swap ?? 0,
    installVm: { memoryBytes: vmMemory ?? GiB, timeoutMs: vmTimeout ?? 60 * 60_000 },
    rootfsBytes: rootfs ?? disk,
    partSizeBytes: partSize ?? 10 * MiB,
    test: { memoryBytes: testMemory ?? GiB, timeoutMs: testTimeout ?? 5 * 60_000 },
    metadataKeyTimeoutMs: keyTimeout ?? 60_000,
    storeLeaseMs: storeLease ?? DEFAULT_STORE_LEASE_MS,
  };
}

/** Eucalyptus' and EC2's limits on the image size, as warnings (a private cloud may allow more). */
function warnAboutRootfsSize(
  context: RuleContext,
  report: Report,
  rootfs: number | undefined,
): void {
  if (rootfs === undefined) return;
  const where: ValuePath =
    context.raw.extract?.rootfsSize !== undefined ? ['extract', 'rootfsSize'] : ['disk', 'size'];
  if (rootfs > 30 * GiB) {
    report(
      'warning',
      where,
      `the root file system image will be ${formatSize(rootfs)}: Eucalyptus refuses instance-store images above 30 GiB by default (max_image_size_gb)`,
    );
  } else if (rootfs > 10 * GiB) {
    report(
      'warning',
      where,
      `the root file system image will be ${formatSize(rootfs)}: bundles above 10 GiB are incompatible with EC2 and may be refused`,
    );
  }
}
