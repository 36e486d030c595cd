// What a killed run can leave behind in its work directory, undone: processes chrooted
// into it, mounts below it, loop devices backed by its files, and step scratch space. Only
// called under the work directory's lock (apply, clean), when nothing living uses them.
// Runs of this version leave no mounts or processes (tools/namespace.ts); older ones did.
import { readFile, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec } from '../tools/exec.js';
import {
  loopDevicesBelow,
  mountsBelow,
  runLosetupDetach,
  runLosetupList,
  runUmount,
} from '../tools/mount.js';

export interface ReapReport {
  /** Pids of processes killed because their root directory was inside the work directory. */
  readonly killed: readonly number[];
  /** Mount points removed (deepest first). */
  readonly unmounted: readonly string[];
  /** Loop devices detached. */
  readonly detached: readonly string[];
  /** Mount points still there: the work directory must not be deleted. */
  readonly stillMounted: readonly string[];
  /** Whether the scratch directory (<workDir>/tmp) was removed. */
  readonly removedScratch: boolean;
}

/** Whether a report says that anything was left behind. */
export function reapedAnything(report: ReapReport): boolean {
  return (
    report.killed.length + report.unmounted.length + report.detached.length > 0 ||
    report.stillMounted.length > 0
  );
}

/** One line for people, e.g. "stopped 3 processes, unmounted 5 file systems". */
export function describeReap(report: ReapReport): string {
  const parts: string[] = [];
  if (report.killed.length > 0) parts.push(`stopped ${report.killed.length} process(es)`);
  if (report.unmounted.length > 0)
    parts.push(`unmounted ${report.unmounted.length} file system(s)`);
  if (report.detached.length > 0) parts.push(`detached ${report.detached.join(', ')}`);
  if (report.stillMounted.length > 0)
    parts.push(`could not unmount ${report.stillMounted.join(', ')}`);
  return parts.join(', ');
}

const isBelow = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** Pids whose root directory (/proc/<pid>/root) is `dir` or below it: chroots into it. */
async function chrootedBelow(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const root = await readlink(`/proc/${name}/root`).catch(() => undefined);
    if (root !== undefined && isBelow(root, dir)) out.push(Number(name));
  }
  return out;
}

const pause = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/**
 * Undoes a killed run's leftovers in `workDir`: SIGKILLs processes chrooted into it,
 * unmounts everything below it (deepest first; lazily when busy, so that nothing below
 * stays reachable), detaches loop devices backed by its files, and when nothing is
 * mounted any more removes the scratch directory. Never throws for a missing work dir.
 */
export async function reapWorkDir(workDir: string, exec: Exec): Promise<ReapReport> {
  // /proc shows canonical paths: compare with the real path of the work directory.
  const dir = await realpath(workDir).catch(() => undefined);
  if (dir === undefined)
    return { killed: [], unmounted: [], detached: [], stillMounted: [], removedScratch: false };
  const killed = await chrootedBelow(dir);
  for (const pid of killed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 100 && (await chrootedBelow(dir)).length > 0; i += 1) await pause(50);

  const mounts = async () => mountsBelow(await readFile('/proc/self/mounts', 'utf8'), dir);
  const unmounted: string[] = [];
  for (const target of await mounts()) {
    const r = await runUmount(exec, target);
    if (r.ok || (await runUmount(exec, target, { lazy: true })).ok) unmounted.push(target);
  }
  const detached: string[] = [];
  const list = await runLosetupList(exec);
  if (list.ok)
    for (const device of loopDevicesBelow(list.value.stdout, dir))
      if ((await runLosetupDetach(exec, device)).ok) detached.push(device);
  const stillMounted = await mounts();
  let removedScratch = false;
  if (stillMounted.length === 0) {
    // Under the lock no step runs, so the scratch space is a killed run's.
    const scratch = join(dir, 'tmp');
    removedScratch = (await readdir(scratch).catch(() => [])).length > 0;
    await rm(scratch, { recursive: true, force: true });
  }
  return { killed, unmounted, detached, stillMounted, removedScratch };
}
