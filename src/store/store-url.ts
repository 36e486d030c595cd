// The keys of a recipe's state and lock below a store's S3 address (core/s3-url.ts).
import type { S3Url } from '../core/s3-url.js';

/** The keys of one recipe's objects in a store. */
export interface RecipeKeys {
  readonly state: string;
  readonly lock: string;
}

/** `<prefix>/<recipe>/state.json` and its lock beside it, `state.json.lock`. */
export function recipeKeys(store: S3Url, recipeName: string): RecipeKeys {
  const base = store.prefix === '' ? recipeName : `${store.prefix}/${recipeName}`;
  return { state: `${base}/state.json`, lock: `${base}/state.json.lock` };
}

/** `s3://bucket/key`, for messages. */
export function objectUrl(store: S3Url, key: string): string {
  return `s3://${store.bucket}/${key}`;
}
