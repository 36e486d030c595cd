// The CLI's exit codes (STYLE.md §4), documented in README.md and `--help`.

export const EXIT = {
  ok: 0,
  /** A step (or a cloud call) failed, or the work directory cannot be written (read-only, full). */
  failure: 1,
  /** Bad usage or an invalid recipe. */
  usage: 2,
  /** The work directory or the shared store is locked by another run, or a state write lost a race. */
  locked: 3,
  /** A bug: an unexpected exception. */
  internal: 70,
  /** Interrupted by Ctrl-C / SIGTERM. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    a step or a cloud request failed, or a file cannot be written
       (read-only or full file system, quota, permissions)
  2    bad usage or an invalid recipe
  3    the work directory or the shared store is locked by another run,
       or a state write to a shared store lost a race to another run
  70   internal error (please report it)
  130  interrupted (Ctrl-C); run the same command again to resume`;
