// A private mount and PID namespace for one session of work on an image tree (util-linux
// unshare + nsenter): what is mounted in it never appears on the host, and when its holder
// dies — even when emi-recipe is killed with SIGKILL — the kernel kills every process in
// it and undoes its mounts. It decides nothing about what is mounted or run.
//
//   emi-recipe ─ setpriv(pdeathsig) ─ unshare U ─ sleep C (pid 1 of the namespace)
//              └ setpriv(pdeathsig) ─ nsenter ─ chroot/mount/debootstrap (inside)
//
// emi-recipe dies -> U dies (pdeathsig) -> C dies (--kill-child) -> the kernel kills all
// of the namespace's processes (pid_namespaces(7)) -> its mounts go, loop devices clear.
import { readFile, readdir, readlink } from 'node:fs/promises';
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import { sleep } from '../core/sleep.js';
import type { TaskContext } from '../core/task.js';
import { formatCommand, type Exec, type ExecResult } from './exec.js';

/** One namespace session. Paths inside are the host's paths (same file systems). */
export interface Sandbox {
  /** Runs a program inside (absolute paths; `cwd` is honoured with nsenter --wd). */
  readonly exec: Exec;
  /** The host path of `path` as seen inside (through /proc/<holder>/root). */
  hostPath(path: string): string;
  /** The text of the namespace's /proc/mounts. */
  mounts(): Promise<string>;
  /**
   * SIGKILLs every process in the namespace but its init, and waits (up to 10 s) until
   * they are gone: nothing is left running in an image before it is written to or
   * unmounted (a daemon a package script started, a forked helper). Returns the count.
   */
  killInside(): Promise<number>;
  /** Ends the namespace: its processes die and its remaining mounts are undone. */
  close(): Promise<void>;
}

/** The holder's command line (without the program name). */
export function unshareArgs(): string[] {
  return [
    '--mount',
    '--propagation',
    'private',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    'sleep',
    'infinity',
  ];
}

/** nsenter's command line for running `file args` inside the namespace held by `holder`. */
export function nsenterArgs(
  holder: number,
  file: string,
  args: readonly string[],
  cwd?: string,
): string[] {
  return [
    `--mount=/proc/${holder}/ns/mnt`,
    `--pid=/proc/${holder}/ns/pid_for_children`,
    ...(cwd !== undefined ? [`--wd=${cwd}`] : []),
    '--',
    file,
    ...args,
  ];
}

const READY_MS = 10_000;

async function firstChild(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const child = Number(text.trim().split(' ')[0]);
  return Number.isInteger(child) && child > 0 ? child : undefined;
}

/** Whether `pid` exists and is not a zombie. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Pids of the processes whose PID namespace is `ns` (as readlink shows it), but `except`. */
async function pidsIn(ns: string, except: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === except) continue;
    const link = await readlink(`/proc/${name}/ns/pid`).catch(() => undefined);
    // A zombie is dead already (its parent, the namespace's init, never reaps it).
    if (link === ns && (await isRunning(Number(name)))) out.push(Number(name));
  }
  return out;
}

/**
 * Waits until unshare has forked and its child has exec'd sleep: by then the namespaces
 * exist and the mount propagation is private (util-linux sys-utils/unshare.c sets it in
 * the child before exec). undefined: the holder ended, or it took too long.
 */
async function waitReady(
  spawned: { readonly holder?: number; readonly ended?: unknown },
  signal: AbortSignal,
): Promise<{ holder: number; init: number } | undefined> {
  const started = Date.now();
  let init: number | undefined;
  while (spawned.ended === undefined && !signal.aborted && Date.now() - started < READY_MS) {
    const holder = spawned.holder;
    if (holder !== undefined) {
      init ??= await firstChild(holder);
      if (init !== undefined) {
        const [a, b] = await Promise.all([
          readlink(`/proc/${holder}/exe`).catch(() => ''),
          readlink(`/proc/${init}/exe`).catch(() => ''),
        ]);
        if (a !== '' && b !== '' && a !== b) return { holder, init };
      }
    }
    await sleep(10, signal);
  }
  return undefined;
}

/**
 * Starts the namespace's holder and waits until it is ready (its init runs). Fails when
 * unshare cannot create the namespaces (no CAP_SYS_ADMIN, e.g. an unprivileged container).
 */
export async function openSandbox(
  exec: Exec,
  ctx: TaskContext,
): Promise<Result<Sandbox, ToolFailure>> {
  // Not tied to ctx.signal: on Ctrl-C the tools inside stop and the caller still
  // unmounts and closes in order; only a dead emi-recipe ends the holder abruptly.
  const stop = new AbortController();
  const spawned: { holder?: number; ended?: Result<ExecResult, ToolFailure> } = {};
  const running = exec('unshare', unshareArgs(), {
    signal: stop.signal,
    killGraceMs: 2000,
    onSpawn: (pid) => (spawned.holder = pid),
  }).then((r) => (spawned.ended = r));
  const fail = async (): Promise<Result<Sandbox, ToolFailure>> => {
    stop.abort();
    const r = await running;
    if (!r.ok) return err(r.error);
    return err({
      reason: 'exit-non-zero',
      exitCode: 0,
      file: 'unshare',
      command: formatCommand('unshare', unshareArgs()),
      stderrTail: ['the namespace holder ended before it was ready'],
      stdoutTail: [],
    });
  };
  const ready = await waitReady(spawned, ctx.signal);
  if (!ready) return fail();
  const { holder: u, init: c } = ready;
  const ns = await readlink(`/proc/${u}/ns/pid_for_children`).catch(() => '');
  if (ns === '') return fail();
  const inside: Exec = async (file, args, options) => {
    const r = await exec('nsenter', nsenterArgs(u, file, args, options.cwd), options);
    // Report the program, not the wrapper: nsenter is plumbing.
    return r.ok ? r : err({ ...r.error, file, command: formatCommand(file, args) });
  };
  return ok({
    exec: inside,
    hostPath: (path) => `/proc/${u}/root${path.startsWith('/') ? '' : '/'}${path}`,
    mounts: () => readFile(`/proc/${u}/mounts`, 'utf8'),
    killInside: async () => {
      const pids = await pidsIn(ns, c);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      const until = Date.now() + 10_000;
      while ((await pidsIn(ns, c)).length > 0 && Date.now() < until)
        await sleep(20, new AbortController().signal);
      return pids.length;
    },
    close: async () => {
      // unshare waits out SIGTERM for its child; SIGKILL ends it, and --kill-child the rest.
      try {
        process.kill(u, 'SIGKILL');
      } catch {
        // Already gone.
      }
      stop.abort();
      await running;
      // The namespace ends with its init; wait for that so that its mounts are gone.
      const until = Date.now() + 10_000;
      while (Date.now() < until && (await isRunning(c)))
        await sleep(20, new AbortController().signal);
    },
  });
}
