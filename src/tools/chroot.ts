// chroot: runs a command inside a directory tree as root (the customize fast path,
// locale-gen after debootstrap). Pure argv builder plus one exec call, in its own
// process group (package scripts fork).
import type { ToolFailure } from '../core/failure.js';
import type { Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/** `chroot ROOT COMMAND…` with COMMAND's paths inside ROOT. */
export function chrootArgs(root: string, command: readonly string[]): string[] {
  return [root, ...command];
}

export function runChroot(
  exec: Exec,
  ctx: TaskContext,
  options: {
    readonly root: string;
    readonly command: readonly string[];
    readonly onLine: (line: string) => void;
  },
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('chroot', chrootArgs(options.root, options.command), {
    signal: ctx.signal,
    group: true,
    keepStdout: false,
    env: {
      DEBIAN_FRONTEND: 'noninteractive',
      HOME: '/root',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    },
    onLine: options.onLine,
  });
}
