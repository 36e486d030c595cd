// File-system errors as facts for BundleFailure: the errno code (ENOENT, ENOSPC…) and stat(2)
// as a Result. (fs errors come from Node's realm, so `instanceof Error` is not relied on.)
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';

/** The errno code of a file-system error, else its message. */
export function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** stat(2), with the error code as the failure. */
export function statResult(path: string): Promise<Result<Stats, string>> {
  return stat(path).then(ok, (error: unknown) => err(codeOf(error)));
}
