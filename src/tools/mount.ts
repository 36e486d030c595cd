// mount/umount/losetup (util-linux): a loop-mounted file-system image and the pseudo file
// systems a chroot needs, and undoing them. Root only. Pure argv builders and parsers
// plus exec calls.
import type { ToolFailure } from '../core/failure.js';
import type { Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/** How something is mounted at a target. */
export type MountSpec =
  | {
      readonly kind: 'loop';
      readonly image: string;
      /** A partition of a whole-disk image: where it starts and how long it is. */
      readonly offsetBytes?: number;
      readonly sizeBytes?: number;
    }
  | { readonly kind: 'proc' }
  | { readonly kind: 'sysfs' }
  | { readonly kind: 'bind'; readonly source: string };

export function mountArgs(spec: MountSpec, target: string): string[] {
  switch (spec.kind) {
    case 'loop': {
      const options = ['loop'];
      if (spec.offsetBytes !== undefined) options.push(`offset=${spec.offsetBytes}`);
      if (spec.sizeBytes !== undefined) options.push(`sizelimit=${spec.sizeBytes}`);
      return ['-o', options.join(','), spec.image, target];
    }
    case 'proc':
      return ['-t', 'proc', 'proc', target];
    case 'sysfs':
      return ['-t', 'sysfs', 'sysfs', target];
    case 'bind':
      return ['--bind', spec.source, target];
  }
}

/** `lazy`: detach now, free when no longer busy (umount -l), for leftovers of killed runs. */
export function umountArgs(target: string, options: { readonly lazy?: boolean } = {}): string[] {
  return [...(options.lazy === true ? ['--lazy'] : []), target];
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
export function runUmount(
  exec: Exec,
  target: string,
  options: { readonly lazy?: boolean } = {},
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('umount', umountArgs(target, options), {
    signal: new AbortController().signal,
    timeoutMs: 60_000,
  });
}

/**
 * A path as /proc/mounts writes it: the kernel escapes space, tab, newline and backslash
 * as three octal digits (fs/proc_namespace.c, mangle()).
 */
export function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Mount points at or below `root` listed in /proc/self/mounts' text, deepest first. */
export function mountsBelow(mountsText: string, root: string): string[] {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return mountsText
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[1] ?? ''))
    .filter((target) => target === root || target.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** `losetup --list` with the device and its backing file, no header, raw (unaligned) columns. */
export function losetupListArgs(): string[] {
  return ['--list', '--noheadings', '--raw', '--output', 'NAME,BACK-FILE'];
}

/**
 * Loop devices whose backing file is at or below `dir`, from losetupListArgs()'s output.
 * losetup --raw escapes unsafe characters as \xHH; a deleted file ends in " (deleted)".
 */
export function loopDevicesBelow(listText: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: string[] = [];
  for (const line of listText.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const file = line
      .slice(space + 1)
      .replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      .replace(/ \(deleted\)$/, '');
    if (file.startsWith(prefix)) out.push(line.slice(0, space));
  }
  return out;
}

export function runLosetupList(exec: Exec): Promise<Result<ExecResult, ToolFailure>> {
  return exec('losetup', losetupListArgs(), {
    signal: new AbortController().signal,
    timeoutMs: 30_000,
  });
}

/** Detaches a loop device (or, while it is in use, marks it to detach when freed). */
export function runLosetupDetach(
  exec: Exec,
  device: string,
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('losetup', ['--detach', device], {
    signal: new AbortController().signal,
    timeoutMs: 30_000,
  });
}
