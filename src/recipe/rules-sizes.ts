// Sizes and durations in range: the disk, swap, VM memory, the root file system (with
// Eucalyptus' limits as warnings), bundle parts, timeouts. Part of rules.ts.
import type { ValuePath } from './parse.js';
import type { Report, RuleContext } from './rule-context.js';
import { formatSize, parseDuration, parseSize } from './units.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Checks every size and duration of the recipe. */
export function checkSizes(context: RuleContext, report: Report): void {
  const raw = context.raw;
  const size = (
    path: ValuePath,
    value: string | number | undefined,
    min: number,
    max: number,
  ): number | undefined => {
    if (value === undefined) return undefined;
    const bytes = parseSize(value);
    if (bytes === undefined) {
      report('error', path, `expected a whole number of bytes, got '${String(value)}'`);
      return undefined;
    }
    if (bytes < min || bytes > max) {
      report(
        'error',
        path,
        `expected a size between ${formatSize(min)} and ${formatSize(max)}, got ${formatSize(bytes)}`,
      );
      return undefined;
    }
    return bytes;
  };
  const duration = (path: ValuePath, value: string | number | undefined): void => {
    if (value === undefined) return;
    const ms = parseDuration(value);
    if (ms === undefined || ms < 1000)
      report('error', path, `expected a duration of at least 1s, got '${String(value)}'`);
  };
  const disk = size(['disk', 'size'], raw.disk?.size, 64 * MiB, 2 * 2 ** 40);
  const swap = size(['install', 'swap'], raw.install?.swap, 0, 64 * GiB);
  if (disk !== undefined && swap !== undefined && swap > disk - 64 * MiB) {
    report(
      'error',
      ['install', 'swap'],
      `leaves less than 64 MiB of the ${formatSize(disk)} disk for the root file system`,
    );
  }
  size(['install', 'vm', 'memory'], raw.install?.vm?.memory, 128 * MiB, 1024 * GiB);
  duration(['install', 'vm', 'timeout'], raw.install?.vm?.timeout);
  const rootfs =
    size(['extract', 'rootfsSize'], raw.extract?.rootfsSize, 64 * MiB, 2 * 2 ** 40) ?? disk;
  if (rootfs !== undefined && rootfs > 30 * GiB) {
    report(
      'warning',
      raw.extract?.rootfsSize !== undefined ? ['extract', 'rootfsSize'] : ['disk', 'size'],
      `the root file system image will be ${formatSize(rootfs)}: Eucalyptus refuses instance-store images above 30 GiB by default (max_image_size_gb)`,
    );
  } else if (rootfs !== undefined && rootfs > 10 * GiB) {
    report(
      'warning',
      raw.extract?.rootfsSize !== undefined ? ['extract', 'rootfsSize'] : ['disk', 'size'],
      `the root file system image will be ${formatSize(rootfs)}: bundles above 10 GiB are incompatible with EC2 and may be refused`,
    );
  }
  size(['bundle', 'partSize'], raw.bundle?.partSize, 1024, 5 * GiB);
  size(['test', 'memory'], raw.test?.memory, 128 * MiB, 1024 * GiB);
  duration(['test', 'timeout'], raw.test?.timeout);
  duration(
    ['customize', 'rcLocal', 'metadataSshKey', 'timeout'],
    raw.customize?.rcLocal?.metadataSshKey?.timeout,
  );
}
