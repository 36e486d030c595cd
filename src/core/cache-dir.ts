// Where emi-recipe keeps data that only saves time (KVM probe results, debootstrap's
// .debs, downloaded ISOs): never needed for a correct result, safe to delete.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $EMI_RECIPE_CACHE_DIR, else $XDG_CACHE_HOME/emi-recipe, else ~/.cache/emi-recipe. */
export function cacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.EMI_RECIPE_CACHE_DIR) return env.EMI_RECIPE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'emi-recipe');
}
