// xorriso: list and extract files of an ISO 9660 image (installer kernels and initrds),
// read its volume id, and build small ISOs (NoCloud seeds, the tests' installer).
// Pure argv builders and parsers, plus one exec call.
import type { ToolFailure } from '../core/failure.js';
import { ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/** Lists every file of the image (`-find / -type f`). */
export function listFilesArgs(iso: string): string[] {
  return ['-indev', iso, '-find', '/', '-type', 'f'];
}

/** Parses -find output: one quoted path per line ('/install.amd/vmlinuz'). */
export function parseFileList(stdout: string): string[] {
  const files: string[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^'(.*)'$/.exec(line.trim());
    // xorriso quotes with '…' and writes an embedded quote as '"'"'.
    if (match?.[1] !== undefined) files.push(match[1].replace(/'"'"'/g, "'"));
  }
  return files;
}

/** Prints the primary volume descriptor (its Volume Id names the ISO's label). */
export function pvdInfoArgs(iso: string): string[] {
  return ['-indev', iso, '-pvd_info'];
}

export function parseVolumeId(stdout: string): string | null {
  const value = /^Volume Id\s*:\s?(.*)$/m.exec(stdout)?.[1]?.trimEnd();
  return value ? value : null;
}

/** Extracts files: each [path in the ISO, host path]. */
export function extractArgs(iso: string, files: readonly (readonly [string, string])[]): string[] {
  return [
    '-osirrox',
    'on',
    '-indev',
    iso,
    ...files.flatMap(([from, to]) => ['-extract', from, to]),
  ];
}

/** A Rock Ridge + Joliet ISO of `dir`'s contents with volume id `volumeId`. */
export function buildIsoArgs(options: {
  readonly dir: string;
  readonly out: string;
  readonly volumeId: string;
}): string[] {
  return [
    '-as',
    'mkisofs',
    '-quiet',
    '-o',
    options.out,
    '-V',
    options.volumeId,
    '-J',
    '-r',
    options.dir,
  ];
}

/** Runs xorriso; its chatter goes to stderr, results to stdout. */
export async function runXorriso(
  exec: Exec,
  ctx: TaskContext,
  args: readonly string[],
): Promise<Result<ExecResult, ToolFailure>> {
  const r = await exec('xorriso', args, { signal: ctx.signal });
  return r.ok ? ok(r.value) : r;
}
