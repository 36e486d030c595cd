// Where emi-recipe keeps data that only saves time (KVM probe results, debootstrap's
// .debs, downloaded ISOs): never needed for a correct result, safe to delete. A cache
// that cannot be written is reported with its path and the variable that moves it.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describeFsFailure, fsFailureOf, makeDirectories, type FsFailure } from './fs-failure.js';
import { err, ok, type Result } from './result.js';

/** $EMI_RECIPE_CACHE_DIR, else $XDG_CACHE_HOME/emi-recipe, else ~/.cache/emi-recipe. */
export function cacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.EMI_RECIPE_CACHE_DIR) return env.EMI_RECIPE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'emi-recipe');
}

/**
 * Creates `dir` (a directory inside the cache) and its parents. A read-only, full or
 * forbidden file system is the failure (named by path); any other error is thrown.
 */
export async function makeCacheDir(dir: string): Promise<Result<string, FsFailure>> {
  try {
    await makeDirectories(dir);
    return ok(dir);
  } catch (error) {
    const failure = fsFailureOf(error, dir);
    if (failure) return err(failure);
    throw error;
  }
}

/** A cache failure in words, with how to move the cache (EMI_RECIPE_CACHE_DIR). */
export function describeCacheFailure(
  failure: FsFailure,
  action = 'write the cache directory',
): string {
  return describeFsFailure(failure, {
    action,
    elsewhere: 'point EMI_RECIPE_CACHE_DIR at a writable directory',
  });
}
