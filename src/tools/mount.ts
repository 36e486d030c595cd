// mount/umount (util-linux): a loop-mounted file-system image and the pseudo file
// systems a chroot needs. Root only. Pure argv builders plus exec calls.
import type { ToolFailure } from '../core/failure.js';
import type { Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/** How something is mounted at a target. */
export type MountSpec =
  | { readonly kind: 'loop'; readonly image: string }
  | { readonly kind: 'proc' }
  | { readonly kind: 'sysfs' }
  | { readonly kind: 'bind'; readonly source: string };

export function mountArgs(spec: MountSpec, target: string): string[] {
  switch (spec.kind) {
    case 'loop':
      return ['-o', 'loop', spec.image, target];
    case 'proc':
      return ['-t', 'proc', 'proc', target];
    case 'sysfs':
      return ['-t', 'sysfs', 'sysfs', target];
    case 'bind':
      return ['--bind', spec.source, target];
  }
}

export function umountArgs(target: string): string[] {
  return [target];
}

export function runMount(
  exec: Exec,
  ctx: TaskContext,
  spec: MountSpec,
  target: string,
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('mount', mountArgs(spec, target), { signal: ctx.signal, timeoutMs: 60_000 });
}

/**
 * Unmounts even when the run is being cancelled (a mount left behind would outlive
 * the process): it ignores ctx.signal on purpose.
 */
export function runUmount(exec: Exec, target: string): Promise<Result<ExecResult, ToolFailure>> {
  return exec('umount', umountArgs(target), {
    signal: new AbortController().signal,
    timeoutMs: 60_000,
  });
}

/** Mount points below `root` listed in /proc/self/mounts' text, deepest first. */
export function mountsBelow(mountsText: string, root: string): string[] {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return mountsText
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' ') ?? '')
    .filter((target) => target === root || target.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}
