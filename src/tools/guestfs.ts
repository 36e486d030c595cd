// libguestfs: virt-customize (run a script inside a disk image without root, in
// libguestfs's own small VM). Pure argv builder plus one exec call; the environment
// chooses QEMU directly and TCG when KVM does not work (tools/qemu.ts guestfsEnv).
import type { ToolFailure } from '../core/failure.js';
import type { Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

export interface VirtCustomizeOptions {
  readonly disk: string;
  readonly format: 'qcow2' | 'raw';
  /** Directories to create in the guest before uploads. */
  readonly mkdirs: readonly string[];
  /** [host path, guest path] pairs copied in first. */
  readonly uploads: readonly (readonly [string, string])[];
  /** A host file holding the script to run inside the guest. */
  readonly script: string;
  readonly memoryMiB: number;
}

export function virtCustomizeArgs(o: VirtCustomizeOptions): string[] {
  return [
    // --format applies to the --add after it.
    '--format',
    o.format,
    '--add',
    o.disk,
    '--memsize',
    String(o.memoryMiB),
    '--network',
    '--no-logfile',
    ...o.mkdirs.flatMap((d) => ['--mkdir', d]),
    ...o.uploads.flatMap(([from, to]) => ['--upload', `${from}:${to}`]),
    '--run',
    o.script,
  ];
}

export function runVirtCustomize(
  exec: Exec,
  ctx: TaskContext,
  options: VirtCustomizeOptions & {
    readonly env: Record<string, string>;
    readonly onLine: (line: string) => void;
  },
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('virt-customize', virtCustomizeArgs(options), {
    signal: ctx.signal,
    group: true,
    keepStdout: false,
    env: options.env,
    onLine: options.onLine,
  });
}
