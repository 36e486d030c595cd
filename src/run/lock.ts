// One lock per work directory for the whole apply (STYLE.md §5). Created with O_EXCL;
// holds the holder's pid, its start time and command. A lock whose process is gone
// (SIGKILL, power cut) is stale and taken over.
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { err, ok, type Result } from '../core/result.js';
import { lockPath } from './layout.js';

export interface LockInfo {
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

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

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

function isAlive(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return true; // a lock from another machine (shared disk): never assume stale
  const start = processStartTime(holder.pid);
  return start !== undefined && start === holder.startTime;
}

/**
 * Takes the work directory's lock, or reports its living holder. A stale lock is
 * removed and taken (once; if another process wins that race, it holds the lock).
 */
export async function acquireLock(
  workDir: string,
  command: string,
): Promise<Result<HeldLock, LockHeld>> {
  const path = lockPath(workDir);
  const info: LockInfo = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? '0',
    host: hostname(),
    command,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(`${JSON.stringify(info)}\n`);
      await handle.sync();
      await handle.close();
      let released = false;
      return ok({
        path,
        release: async () => {
          if (released) return;
          released = true;
          await unlink(path).catch(() => undefined);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    } catch {
      holder = undefined; // half-written by a process killed while creating it: stale
    }
    if (holder && isAlive(holder)) return err({ reason: 'locked', path, holder });
    await unlink(path).catch(() => undefined);
  }
  const holder = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as LockInfo;
  return err({ reason: 'locked', path, holder });
}
