// Failures of external programs, as data (STYLE.md §3): facts, not sentences. Other
// modules define their own failure variants beside their code; the engine's step
// failure is the union of them, each tagged by `reason`.

/** Why running an external program did not succeed. */
export type ToolFailure =
  | (ToolFailureBase & { readonly reason: 'spawn-error'; readonly code: string })
  | (ToolFailureBase & { readonly reason: 'exit-non-zero'; readonly exitCode: number })
  | (ToolFailureBase & { readonly reason: 'signal'; readonly signal: string })
  | (ToolFailureBase & { readonly reason: 'timeout'; readonly timeoutMs: number })
  | (ToolFailureBase & { readonly reason: 'canceled' });

export interface ToolFailureBase {
  /** The program as given (e.g. "qemu-img"). */
  readonly file: string;
  /** The whole command, shell-escaped, for people to read and paste. */
  readonly command: string;
  /** The last lines the program wrote to stderr (at most ~20). */
  readonly stderrTail: readonly string[];
  /** The last lines the program wrote to stdout (at most ~20). */
  readonly stdoutTail: readonly string[];
}

/** One line saying what went wrong, e.g. "qemu-img exited with code 1". */
export function describeToolFailure(failure: ToolFailure): string {
  switch (failure.reason) {
    case 'spawn-error':
      return failure.code === 'ENOENT'
        ? `${failure.file} is not installed (not found on PATH)`
        : `${failure.file} could not be started (${failure.code})`;
    case 'exit-non-zero':
      return `${failure.file} exited with code ${failure.exitCode}`;
    case 'signal':
      return `${failure.file} was killed by ${failure.signal}`;
    case 'timeout':
      return `${failure.file} did not finish within ${Math.round(failure.timeoutMs / 1000)}s and was stopped`;
    case 'canceled':
      return `${failure.file} was stopped (interrupted)`;
  }
}
