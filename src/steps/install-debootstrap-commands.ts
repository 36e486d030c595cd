// The commands of a debootstrap install, built from its params in one place for both the
// plan (install-debootstrap-describe.ts, with <placeholders> for run-time paths) and the
// run (install-debootstrap.ts): what a plan shows is what runs. Pure.
import { join } from 'node:path';
import type { DebootstrapInstallParams } from '../plan/step-params.js';
import type { DebootstrapOptions } from '../tools/debootstrap.js';
import { mke2fsArgs } from '../tools/e2fs.js';
import { ROOT_LABEL } from '../guest/debootstrap-config.js';
import { PARTITION_OFFSET_BYTES, singlePartitionBytes } from '../guest/disk-layout.js';

/** The packages debootstrap adds to the base: the kernel first, then the recipe's, each once. */
export function includedPackages(params: DebootstrapInstallParams): string[] {
  return [...new Set([params.kernelPackage, ...params.packages])];
}

/**
 * Where the downloaded .debs of one suite and architecture are kept below `cacheRoot`
 * (core/cache-dir.ts cacheDir(), or `<cache>` in plans).
 */
export function debootstrapCacheDir(cacheRoot: string, params: DebootstrapInstallParams): string {
  return join(cacheRoot, 'debootstrap', `${params.suite}-${params.arch}`);
}

/** What is known only at run time; plans pass placeholders. */
export interface DebootstrapPlaces {
  /** The directory the base system is installed into. */
  readonly tree: string;
  /** The mirror chosen (params.mirror, else the host's apt sources); null: debootstrap's default. */
  readonly mirror: string | null;
  /** The .deb cache (debootstrapCacheDir); absent when there is none. */
  readonly cacheDir?: string;
}

/** debootstrap's options for `params` (tools/debootstrap.ts debootstrapArgs makes the argv). */
export function debootstrapOptions(
  params: DebootstrapInstallParams,
  places: DebootstrapPlaces,
): DebootstrapOptions {
  return {
    suite: params.suite,
    target: places.tree,
    arch: params.arch,
    variant: params.variant,
    components: params.components,
    include: includedPackages(params),
    mirror: places.mirror,
    ...(places.cacheDir !== undefined ? { cacheDir: places.cacheDir } : {}),
  };
}

/** mke2fs's argv writing `tree` as the root file system into the one partition of `image`. */
export function rootFileSystemArgs(
  params: DebootstrapInstallParams,
  places: { readonly image: string; readonly tree: string },
): string[] {
  return mke2fsArgs({
    image: places.image,
    fromDir: places.tree,
    offsetBytes: PARTITION_OFFSET_BYTES,
    sizeBytes: singlePartitionBytes(params.diskSizeBytes),
    label: ROOT_LABEL,
  });
}
