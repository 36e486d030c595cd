// File-system errors that the user, not emi-recipe, must fix (a read-only or full disk,
// a quota, permissions): as facts (code, path), and as one sentence naming the path and
// what to do. Anything else thrown by fs stays a bug (exit 70) and is not classified here.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { unreachable } from './unreachable.js';

/** errno codes that describe the machine, never a bug in emi-recipe. */
export const ENVIRONMENT_FS_CODES = ['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT'] as const;
export type EnvironmentFsCode = (typeof ENVIRONMENT_FS_CODES)[number];

/** A file-system error the user must fix: where, and which errno. */
export interface FsFailure {
  readonly reason: 'fs-error';
  readonly code: EnvironmentFsCode;
  /** The file or directory emi-recipe was writing (the one to name, not a temp file). */
  readonly path: string;
}

const isEnvironmentCode = (code: unknown): code is EnvironmentFsCode =>
  typeof code === 'string' && (ENVIRONMENT_FS_CODES as readonly string[]).includes(code);

/**
 * The FsFailure for an error thrown by a `node:fs` call, or undefined when it is not one
 * of ENVIRONMENT_FS_CODES. `path` is what to name (the error's own path is often a temp
 * file beside it); without it, the error's path, else `fallbackPath` (a failed write names
 * no file). (fs errors come from Node's realm, so `instanceof Error` is not relied on.)
 */
export function fsFailureOf(
  error: unknown,
  path?: string,
  fallbackPath?: string,
): FsFailure | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; path?: unknown };
  if (!isEnvironmentCode(e.code)) return undefined;
  // A failed write(2) names no file (only an fd): then the place the caller writes in.
  const where = path ?? (typeof e.path === 'string' ? e.path : undefined) ?? fallbackPath;
  return where === undefined ? undefined : { reason: 'fs-error', code: e.code, path: where };
}

/** What the errno means, in words. */
function meaning(code: EnvironmentFsCode): string {
  switch (code) {
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    default:
      return unreachable(code);
  }
}

/** What to do about it; `elsewhere` names the option that picks another place, if any. */
function advice(failure: FsFailure, elsewhere: string | undefined): string {
  const other = elsewhere ? `, or ${elsewhere}` : '';
  switch (failure.code) {
    case 'EROFS':
      return `Remount it read-write${other}.`;
    case 'EACCES':
    case 'EPERM':
      return `Check the owner and mode of ${failure.path} and its directory (ls -ld)${other}.`;
    case 'ENOSPC':
      return `Free some space there (df -h; also df -i for inodes)${other}.`;
    case 'EDQUOT':
      return `Free some space within your quota (quota -s)${other}.`;
    default:
      return unreachable(failure.code);
  }
}

/**
 * One sentence for the user: "cannot write /w/lock: the file system is read-only (EROFS).
 * Remount it read-write, or use --work-dir DIR." `action` is the verb phrase ("write",
 * "create the work directory"); `elsewhere`, how to choose another place.
 */
export function describeFsFailure(
  failure: FsFailure,
  options: { readonly action: string; readonly elsewhere?: string },
): string {
  return `cannot ${options.action} ${failure.path}: ${meaning(failure.code)} (${failure.code}). ${advice(failure, options.elsewhere)}`;
}

/**
 * `mkdir -p` that reports the real errno: Node's `mkdir(dir, {recursive: true})` fails
 * with ENOENT where the file system said EROFS or ENOSPC (https://github.com/nodejs/node/issues/47098,
 * https://github.com/nodejs/node/issues/42808; still so in Node 20.20), which would hide a
 * read-only or full disk. Creates each missing directory in turn; returns the first one
 * it created (as `recursive: true` does), or undefined when `dir` existed.
 */
export async function makeDirectories(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = resolve(dir); ;) {
    const exists = await stat(current).then(
      () => true,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      },
    );
    if (exists) break;
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing) {
    try {
      await mkdir(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // made by another process meanwhile
    }
  }
  return missing[0];
}
