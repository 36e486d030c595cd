// Versions of external programs, for fingerprints (a new qemu-img may write different
// bytes): resolving the binary is a stat, reading the version runs it. The list of tools,
// their packages and version arguments is HOST_TOOLS (host-tools.ts), shared with doctor.
import type { Exec } from './exec.js';
import { findProgram, HOST_TOOLS, parseVersionLine } from './host-tools.js';

/** The Debian/Ubuntu package that provides `tool`, for "install it" hints. */
export function packageOf(tool: string): string | undefined {
  return HOST_TOOLS.find((t) => t.program === tool)?.package;
}

/** Absolute path of `name` on PATH (or the usual sbin directories), or undefined. */
export async function findOnPath(
  name: string,
  path = process.env.PATH ?? '',
): Promise<string | undefined> {
  return (await findProgram(name, path)) ?? undefined;
}

/**
 * Runs the tool's version command. Some tools (resize2fs) print their version only in
 * a usage message with a non-zero exit: the text counts, not the exit code.
 */
export async function readToolVersion(
  name: string,
  binary: string,
  exec: Exec,
  signal: AbortSignal,
): Promise<string | undefined> {
  const args = HOST_TOOLS.find((t) => t.program === name)?.versionArgs ?? ['--version'];
  const result = await exec(binary, [...args], { signal, timeoutMs: 15_000 });
  if (result.ok)
    return (
      parseVersionLine(`${result.value.stdout}\n${result.value.stderr}`)?.slice(0, 200) ?? 'unknown'
    );
  const failure = result.error;
  if (failure.reason === 'exit-non-zero') {
    return (
      parseVersionLine(`${failure.stdoutTail.join('\n')}\n${failure.stderrTail.join('\n')}`)?.slice(
        0,
        200,
      ) ?? 'unknown'
    );
  }
  return undefined;
}
