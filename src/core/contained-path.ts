// Files under a root directory whose content is untrusted (a guest image's tree), reached
// without following any symbolic link inside it: a link planted in the image (etc -> /etc,
// usr/sbin -> /) must never make emi-recipe read or write a host file. Safe while nothing
// else changes the tree meanwhile (callers make sure no process runs in it).
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from './result.js';

/** Why a path under the root was refused: the component at `path` (inside the root). */
export interface ContainedPathFailure {
  readonly reason: 'symlink' | 'not-a-directory';
  /** The offending component as seen inside the root, e.g. "/etc". */
  readonly path: string;
}

/** `path`'s components inside the root ("/etc/resolv.conf" -> ["etc", "resolv.conf"]). */
export function pathComponents(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`contained path with "..": ${path}`);
  return parts;
}

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/**
 * Walks `dir` (a directory path inside `root`) component by component: each must be a
 * real directory, not a link; missing ones are created (0755) when `create`. Returns
 * the host path of `dir`. `root` itself is trusted (it is ours: a mount point, a scratch dir).
 */
export async function containedDir(
  root: string,
  dir: string,
  options: { readonly create: boolean },
): Promise<Result<string, ContainedPathFailure>> {
  const parts = pathComponents(dir);
  let host = root;
  let inside = '';
  for (const part of parts) {
    host = join(host, part);
    inside = `${inside}/${part}`;
    let stats = await lstat(host).catch((e: unknown) => {
      if (errno(e) === 'ENOENT') return undefined;
      throw e;
    });
    if (stats === undefined) {
      // Nothing below a missing directory exists either.
      if (!options.create) return ok(join(root, ...parts));
      // mkdir(2) never follows a link at its last component; EEXIST means a race: re-check.
      await mkdir(host, { mode: 0o755 }).catch((e: unknown) => {
        if (errno(e) !== 'EEXIST') throw e;
      });
      stats = await lstat(host);
    }
    if (stats.isSymbolicLink()) return err({ reason: 'symlink', path: inside });
    if (!stats.isDirectory()) return err({ reason: 'not-a-directory', path: inside });
  }
  return ok(host);
}

/** The host path of `path` (a file inside `root`) once its parent directories check out. */
export async function containedFile(
  root: string,
  path: string,
  options: { readonly create: boolean },
): Promise<Result<string, ContainedPathFailure>> {
  const parts = pathComponents(path);
  const name = parts.pop();
  if (name === undefined) throw new Error(`contained file without a name: ${path}`);
  const parent = await containedDir(root, parts.join('/'), options);
  return parent.ok ? ok(join(parent.value, name)) : parent;
}

/** What is at `path` inside `root` (lstat: a link is reported as a link), or undefined. */
export async function lstatContained(
  root: string,
  path: string,
): Promise<Result<'file' | 'dir' | 'symlink' | 'other' | undefined, ContainedPathFailure>> {
  const file = await containedFile(root, path, { create: false });
  if (!file.ok) return file;
  const stats = await lstat(file.value).catch((e: unknown) => {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
    throw e;
  });
  if (!stats) return ok(undefined);
  if (stats.isSymbolicLink()) return ok('symlink');
  if (stats.isDirectory()) return ok('dir');
  return ok(stats.isFile() ? 'file' : 'other');
}

/**
 * Creates `path` inside `root` with `data` and `mode`, creating parent directories. Never
 * follows a link: a link at any component, or anything already at `path`, is refused
 * (O_CREAT|O_EXCL does not follow a final link either); remove it first.
 */
export async function writeContained(
  root: string,
  path: string,
  data: string | Uint8Array,
  mode: number,
): Promise<Result<void, ContainedPathFailure>> {
  const file = await containedFile(root, path, { create: true });
  if (!file.ok) return file;
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(file.value, flags, mode).catch((e: unknown) => {
    if (errno(e) === 'EEXIST' || errno(e) === 'ELOOP') return undefined;
    throw e;
  });
  if (!handle) return err({ reason: 'symlink', path: `/${pathComponents(path).join('/')}` });
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
  return ok(undefined);
}

/** Removes `path` inside `root` (a link itself, never its target; a directory with its content). */
export async function removeContained(
  root: string,
  path: string,
): Promise<Result<void, ContainedPathFailure>> {
  const file = await containedFile(root, path, { create: false });
  if (!file.ok) return file;
  // rm(2) of a link removes the link; recursive rm lstat()s and never descends through links.
  await rm(file.value, { recursive: true, force: true });
  return ok(undefined);
}

/** Renames `from` to `to`, both inside `root` (a link is moved as a link). */
export async function renameContained(
  root: string,
  from: string,
  to: string,
): Promise<Result<void, ContainedPathFailure>> {
  const a = await containedFile(root, from, { create: false });
  if (!a.ok) return a;
  const b = await containedFile(root, to, { create: false });
  if (!b.ok) return b;
  await rename(a.value, b.value);
  return ok(undefined);
}
