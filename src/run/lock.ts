// One lock per work directory for the whole apply (STYLE.md §5). The lock file holds the
// holder's pid, start time, host and command; it is written whole to a temp file and
// hard-linked into place, so it is never seen empty or half-written. A lock whose process
// is gone (SIGKILL, power cut) is stale and taken over. Never throws for fs errors.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fsFailureOf, type FsFailure } from '../core/fs-failure.js';
import { err, ok, type Result } from '../core/result.js';
import { lockPath } from './layout.js';

export interface LockInfo {
  /** Random id, for `emi-recipe unlock ID` (absent in locks of older versions). */
  readonly id?: string;
  readonly pid: number;
  /** Process start time (jiffies since boot, from /proc/<pid>/stat), to tell a reused pid. */
  readonly startTime: string;
  readonly host: string;
  readonly command: string;
  readonly since: string;
}

export interface LockHeld {
  readonly reason: 'locked';
  readonly path: string;
  readonly holder: LockInfo;
}

/** Why the lock could not be taken: a living holder, or the file system (read-only, full…). */
export type LockFailure = LockHeld | FsFailure;

export interface HeldLock {
  readonly path: string;
  /** What the lock file says. */
  readonly info: LockInfo;
  /** The dead process whose stale lock was taken over, if any (its leftovers may need reaping). */
  readonly staleHolder?: LockInfo;
  release(): Promise<void>;
}

/** What the lock file says, for `status` and for taking the lock. */
export type LockState =
  | { readonly state: 'free' }
  | { readonly state: 'held'; readonly holder: LockInfo }
  /** Left by a process that is gone, or unreadable (an older emi-recipe killed mid-write). */
  | { readonly state: 'stale'; readonly holder?: LockInfo };

/** Start time of a process from /proc, or undefined when it does not exist (or is a zombie). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True while the holder's process runs (same pid AND start time, so a reused pid does not count). */
export function isAlive(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return true; // a lock from another machine (shared disk): never assume stale
  const start = processStartTime(holder.pid);
  return start !== undefined && start === holder.startTime;
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const data = JSON.parse(text) as Partial<LockInfo> | null;
    return data && typeof data.pid === 'number' && typeof data.host === 'string'
      ? (data as LockInfo)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the lock file of a work directory; a read error other than ENOENT is thrown. */
export async function readLock(workDir: string): Promise<LockState> {
  const text = await readFile(lockPath(workDir), 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  return lockStateOf(text);
}

function lockStateOf(text: string | undefined): LockState {
  if (text === undefined) return { state: 'free' };
  const holder = parseLock(text);
  if (!holder) return { state: 'stale' };
  return isAlive(holder) ? { state: 'held', holder } : { state: 'stale', holder };
}

/** Writes `text` to a new temp file beside `path`, fsynced; the file is removed on failure. */
async function writeTemp(path: string, text: string): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${Date.now()}`);
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return tmp;
}

/**
 * Puts the complete temp file at `path` unless a lock is there: link(2) fails with EEXIST
 * instead of replacing. File systems without hard links (EPERM/ENOTSUP on vfat, some
 * network mounts) fall back to O_EXCL + write, removing the file if the write fails.
 */
async function publish(tmp: string, path: string, text: string): Promise<'taken' | 'exists'> {
  try {
    await link(tmp, path);
    return 'taken';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return 'exists';
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
  }
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw error;
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  return 'taken';
}

/**
 * Removes a stale lock whose content was `seen`, and only that one: it is renamed aside
 * first and put back if it turns out to be a new lock another process took meanwhile.
 */
async function removeStale(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => seen);
  if (moved !== seen) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Takes the work directory's lock, or reports its living holder, or the file-system
 * error that prevented it (EROFS, EACCES, ENOSPC, EDQUOT: named by path, never thrown,
 * and never leaving a lock file behind). A stale lock is taken over.
 */
export async function takeLock(
  workDir: string,
  command: string,
): Promise<Result<HeldLock, LockFailure>> {
  const path = lockPath(workDir);
  const info: LockInfo = {
    id: randomUUID(),
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? '0',
    host: hostname(),
    command,
    since: new Date().toISOString(),
  };
  const text = `${JSON.stringify(info)}\n`;
  let tmp: string | undefined;
  try {
    tmp = await writeTemp(path, text);
    let staleHolder: LockInfo | undefined;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if ((await publish(tmp, path, text)) === 'taken')
        return ok(heldLock(path, info, staleHolder));
      const seen = await readFile(path, 'utf8').catch(() => undefined);
      const current = lockStateOf(seen);
      if (current.state === 'held') return err({ reason: 'locked', path, holder: current.holder });
      if (current.state === 'stale' && seen !== undefined) {
        staleHolder = current.holder;
        await removeStale(path, seen);
      }
    }
    const last = lockStateOf(await readFile(path, 'utf8').catch(() => undefined));
    if (last.state === 'held') return err({ reason: 'locked', path, holder: last.holder });
    // Taken and dropped by others three times in a row: report the last one seen as holder.
    return err({
      reason: 'locked',
      path,
      holder: last.state === 'stale' && last.holder ? last.holder : info,
    });
  } catch (error) {
    const failure = fsFailureOf(error, path);
    if (failure) return err(failure);
    throw error;
  } finally {
    if (tmp !== undefined) await unlink(tmp).catch(() => undefined);
  }
}

function heldLock(path: string, info: LockInfo, staleHolder: LockInfo | undefined): HeldLock {
  let released = false;
  return {
    path,
    info,
    ...(staleHolder ? { staleHolder } : {}),
    release: async () => {
      if (released) return;
      released = true;
      await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * takeLock() for callers that handle only a living holder: a file-system failure is
 * thrown as an Error with its errno `code` and `path`, which runCli reports as a user
 * error (exit 1). Prefer takeLock().
 */
export async function acquireLock(
  workDir: string,
  command: string,
): Promise<Result<HeldLock, LockHeld>> {
  const r = await takeLock(workDir, command);
  if (r.ok) return r;
  if (r.error.reason === 'locked') return err(r.error);
  throw Object.assign(new Error(`${r.error.code}: cannot write ${r.error.path}`), {
    code: r.error.code,
    path: r.error.path,
  });
}

/**
 * Removes the lock file if its id is `id` (`emi-recipe unlock ID`), and only then: the
 * content is checked after moving it aside (removeStale), so a lock taken meanwhile stays.
 * Returns what the lock said before, or undefined when there was none.
 */
export async function removeLockById(
  workDir: string,
  id: string,
): Promise<{ removed: boolean; state: LockState }> {
  const path = lockPath(workDir);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  const state = lockStateOf(text);
  if (text === undefined || state.state === 'free' || state.holder?.id !== id)
    return { removed: false, state };
  await removeStale(path, text);
  return { removed: true, state };
}
