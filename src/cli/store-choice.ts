// Which store a command uses, picked here (the CLI picks, run/ only sees the interface):
// `--store` over the recipe's `store.url`, else the work directory. Opens it with the
// recipe's publishing target, and maps store failures to exit codes (STYLE.md §4).
import { err, ok, type Result } from '../core/result.js';
import { unreachable } from '../core/unreachable.js';
import { localCloudDataDir } from '../local-cloud/publish-target.js';
import type { Recipe } from '../recipe/model.js';
import type { RecipeStore, StoreFailure } from '../run/store.js';
import { describeStoreFailure } from '../store/describe-store.js';
import { openRecipeStore } from '../store/open-store.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { publishTargetParams } from './step-kind-options.js';

/**
 * The step kinds whose outputs a shared store's step cache keeps: those whose only effect
 * is their files and values. Never upload-bundle or register-image (their effect is in the
 * cloud: restoring their record would claim a bundle or image that may not exist). The
 * boot test is cached: its outcome is a fact about an image whose digest, and the QEMU
 * version, its fingerprint names; a recipe building the same image need not boot it again.
 */
export const CACHED_KINDS: ReadonlySet<string> = new Set([
  'create-disk',
  'install-os',
  'customize',
  'make-bootable',
  'extract-kernel',
  'extract-ramdisk',
  'extract-rootfs',
  'extract-disk',
  'bundle-image',
  'bundle-parts',
  'bundle-manifest',
  'boot-test',
]);

/**
 * The step kinds that read only their needs' values, never their files: a registration
 * reads the uploaded manifest's location (upload-bundle's values); its need on the boot
 * test is an order, not an input. A fresh runner whose only pending step is a
 * registration downloads nothing.
 */
export const VALUES_ONLY_KINDS: ReadonlySet<string> = new Set(['register-image']);

/**
 * The step kinds whose disk is a qcow2 overlay whose backing file is their need's disk
 * (by a path relative to the step's directory): install-os on create-disk's, customize on
 * install-os's, make-bootable on customize's. A step that reads one reads the chain below it,
 * so a fresh runner downloads the whole chain, not an overlay without its backing file.
 */
export const OVERLAY_KINDS: ReadonlySet<string> = new Set([
  'install-os',
  'customize',
  'make-bootable',
]);

/** What the command line says about the store. */
export interface StoreChoice {
  /** `--store s3://…`: overrides the recipe's `store.url`. */
  readonly flag?: string;
  /** `--no-lock`: no lock in a remote store (one runner only). */
  readonly noLock: boolean;
  /** apply: the store is written (and probed before its lock is taken). */
  readonly forWrite: boolean;
}

/** The store's address and where it came from, or undefined for the work directory. */
export function chosenStoreUrl(
  choice: StoreChoice,
  recipe: Recipe,
): { readonly url: string; readonly origin: string } | undefined {
  if (choice.flag !== undefined) return { url: choice.flag, origin: '--store' };
  if (recipe.store.url !== undefined) return { url: recipe.store.url, origin: 'store.url' };
  return undefined;
}

/** The exit code of a store failure: 3 another run is in the way, 2 a wrong setting, else 1. */
export function storeExitCode(failure: StoreFailure): ExitCode {
  switch (failure.reason) {
    case 'lock-held':
    case 'lock-lost':
    case 'state-conflict':
    case 'unlock-alive':
      return EXIT.locked;
    case 'store-config':
    case 'no-conditional-writes':
    case 'unlock-mismatch':
      return EXIT.usage;
    case 'store-unreachable':
    case 'state-invalid':
    case 'state-recipe':
    case 'state-lineage':
    case 'state-serial':
    case 'fs-error':
      return EXIT.failure;
    default:
      return unreachable(failure);
  }
}

/** Opens the chosen store; a failure comes with its message and exit code. */
export async function openStore(
  choice: StoreChoice,
  context: {
    readonly recipe: Recipe;
    readonly recipeFile: string;
    readonly workDir: string;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly signal: AbortSignal;
  },
): Promise<Result<RecipeStore, { readonly message: string; readonly exit: ExitCode }>> {
  const { recipe } = context;
  const chosen = chosenStoreUrl(choice, recipe);
  const secretKey = recipe.publish.credentials?.secretKey;
  const opened = await openRecipeStore({
    url: chosen?.url,
    origin: chosen?.origin ?? 'store.url',
    workDir: context.workDir,
    recipe: { name: recipe.name, file: context.recipeFile },
    target: publishTargetParams(recipe),
    ...(secretKey !== undefined ? { secretKey } : {}),
    localDataDir: localCloudDataDir(recipe.dir),
    env: context.env,
    forWrite: choice.forWrite,
    locking: !choice.noLock,
    cachedKinds: CACHED_KINDS,
    signal: context.signal,
  });
  if (opened.ok) return ok(opened.value);
  return err({
    message: describeStoreFailure(opened.error, context.recipeFile),
    exit: storeExitCode(opened.error),
  });
}
