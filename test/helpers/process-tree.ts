// The descendants of a process, from /proc: to SIGKILL a whole process tree at once
// (the CLI, QEMU, debootstrap…), even children that run in process groups of their own.
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of every process whose ancestry includes `root` (not `root` itself). */
export function descendantsOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** SIGKILLs `root` and all its descendants (children first found, then all at once). */
export function killTree(root: number): number[] {
  const pids = [root, ...descendantsOf(root)];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids;
}
