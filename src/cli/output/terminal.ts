// Where the CLI's text goes: stdout/stderr writers plus whether colour is wanted.
// Injected into commands so tests capture output; nothing else writes to the terminal.

export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** True when stdout is an interactive terminal (progress bars, colour). */
  readonly isTty: boolean;
  readonly color: boolean;
}

/** The process's real terminal. Colour follows NO_COLOR / FORCE_COLOR and the TTY. */
export function processTerminal(env: Readonly<Record<string, string | undefined>>): Terminal {
  const isTty = process.stdout.isTTY && env.CI === undefined;
  const color =
    env.NO_COLOR === undefined &&
    (env.FORCE_COLOR !== undefined || (isTty && process.stderr.isTTY));
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTty,
    color,
  };
}

/** A terminal that records everything (tests). */
export function memoryTerminal(): Terminal & {
  readonly stdout: () => string;
  readonly stderr: () => string;
} {
  let stdout = '';
  let stderr = '';
  return {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    isTty: false,
    color: false,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
