// The only module that starts processes (STYLE.md §6): argv arrays, never a shell;
// cancellation, timeouts and grace periods; output streamed by line, tails kept.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import { shellQuote } from '../core/shell-quote.js';

export interface ExecOptions {
  readonly signal: AbortSignal;
  readonly cwd?: string;
  /** Added to the inherited environment; LC_ALL=C is always set so output parses the same everywhere. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stop the program after this many ms (SIGTERM, then SIGKILL after `killGraceMs`). */
  readonly timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping (default 5000 ms). */
  readonly killGraceMs?: number;
  /** Every output line as it arrives (e.g. a QEMU console to a log). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Output text as it arrives, before any newline (UTF-8 decoded across chunk edges): for
   * programs that report progress within a line (an installer's "... 10%... 20%").
   */
  readonly onText?: (text: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Bytes or text for stdin, or chunks produced as the program reads them (written with
   * the pipe's backpressure); stdin is closed after it (or ignored when absent).
   */
  readonly input?: string | Uint8Array | AsyncIterable<Uint8Array>;
  /** Write stdout into this file (created or truncated) instead of reading it as lines. */
  readonly stdoutFile?: string;
  /**
   * Give stdout's bytes to this function as they come, instead of reading them as lines; the
   * next chunk waits for its promise (the program waits on a full pipe meanwhile). It must
   * not throw: a sink that fails keeps its error and aborts `signal`.
   */
  readonly stdoutSink?: (chunk: Buffer) => Promise<void>;
  /**
   * Start the program in its own process group and signal the whole group when
   * stopping it: for tools that fork (debootstrap, libguestfs, QEMU helpers).
   */
  readonly group?: boolean;
  /** Keep the complete stdout in the result (default true; false keeps only the tail). */
  readonly keepStdout?: boolean;
  /**
   * Kill the program when emi-recipe dies, even by SIGKILL (PR_SET_PDEATHSIG through
   * util-linux's setpriv), so that a QEMU or a debootstrap does not run on after a
   * `kill -9` of the CLI. Default true; false for programs meant to outlive it.
   */
  readonly dieWithParent?: boolean;
  /**
   * Called once with the pid of the started program (through setpriv, which execs it,
   * the pid is the program's own): for a long-lived helper whose /proc entries the
   * caller reads while it runs (tools/namespace.ts).
   */
  readonly onSpawn?: (pid: number) => void;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** The signature of exec, so that callers can be given a fake in unit tests. */
export type Exec = (
  file: string,
  args: readonly string[],
  options: ExecOptions,
) => Promise<Result<ExecResult, ToolFailure>>;

const TAIL = 20;
/** util-linux (always installed on Debian/Ubuntu): sets the parent-death signal, then execs. */
const SETPRIV = '/usr/bin/setpriv';
let setpriv: boolean | undefined;
const hasSetpriv = (): boolean => (setpriv ??= existsSync(SETPRIV));

/** The displayable command line: each word quoted (core/shell-quote.ts), ready to paste into a shell. */
export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

/**
 * Runs `file` with `args`. Never throws and never rejects: every way of not
 * succeeding is a ToolFailure (spawn error, non-zero exit, signal, timeout, canceled).
 */
export const exec: Exec = async (file, args, options) => {
  const started = Date.now();
  const command = formatCommand(file, args);
  const stdoutTail: string[] = [];
  const stderrTail: string[] = [];
  const push = (tail: string[], line: string): void => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
  };
  const keepStdout = options.keepStdout ?? true;
  let stdoutAll = '';
  let stderrAll = '';
  const grace = options.killGraceMs ?? 5000;
  const [spawnFile, spawnArgs] =
    options.dieWithParent !== false && hasSetpriv()
      ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', file, ...args]]
      : [file, [...args]];
  const subprocess = execa(spawnFile, spawnArgs, {
    cwd: options.cwd,
    env: { ...options.env, LC_ALL: 'C' },
    extendEnv: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    cancelSignal: options.signal,
    forceKillAfterDelay: grace,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    detached: options.group === true,
    cleanup: true,
    ...(options.input === undefined
      ? { stdin: 'ignore' as const }
      : typeof options.input === 'string' || options.input instanceof Uint8Array
        ? { input: options.input }
        : { stdin: options.input }),
    ...(options.stdoutFile !== undefined ? { stdout: { file: options.stdoutFile } } : {}),
  });
  if (subprocess.pid !== undefined) options.onSpawn?.(subprocess.pid);
  const follow = (stream: Readable | null, name: 'stdout' | 'stderr'): Promise<void> => {
    if (!stream) return Promise.resolve();
    if (options.onText) {
      const decoder = new StringDecoder('utf8');
      const onText = options.onText;
      stream.on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text !== '') onText(text, name);
      });
    }
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (name === 'stdout') {
        push(stdoutTail, line);
        if (keepStdout) stdoutAll += `${line}\n`;
      } else {
        push(stderrTail, line);
        if (stderrAll.length < 1_000_000) stderrAll += `${line}\n`;
      }
      options.onLine?.(line, name);
    });
    return new Promise((resolve) => lines.once('close', resolve));
  };
  // A forking tool's children share its process group: signal them all when stopping.
  const killGroup = (signal: NodeJS.Signals): void => {
    if (options.group !== true || subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const onAbort = (): void => {
    killGroup('SIGTERM');
    setTimeout(() => {
      killGroup('SIGKILL');
    }, grace).unref();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  const sink = async (stream: Readable | null, write: (chunk: Buffer) => Promise<void>) => {
    if (!stream) return;
    try {
      for await (const chunk of stream) await write(chunk as Buffer);
    } catch {
      // The program was stopped or failed: its result says how.
    }
  };
  const [result] = await Promise.all([
    subprocess,
    options.stdoutSink !== undefined
      ? sink(subprocess.stdout, options.stdoutSink)
      : follow(subprocess.stdout, 'stdout'),
    follow(subprocess.stderr, 'stderr'),
  ]);
  options.signal.removeEventListener('abort', onAbort);
  if (result.timedOut) killGroup('SIGKILL');
  const base = { file, command, stderrTail, stdoutTail };
  if (result.isCanceled || (options.signal.aborted && result.failed))
    return err({ ...base, reason: 'canceled' });
  if (result.timedOut)
    return err({ ...base, reason: 'timeout', timeoutMs: options.timeoutMs ?? 0 });
  if (result.exitCode === undefined && result.signal === undefined) {
    const cause = result.cause as NodeJS.ErrnoException | undefined;
    return err({ ...base, reason: 'spawn-error', code: cause?.code ?? 'UNKNOWN' });
  }
  if (result.signal !== undefined) return err({ ...base, reason: 'signal', signal: result.signal });
  // Through setpriv (or nsenter, tools/namespace.ts), a program that cannot be started is
  // their exit 127/126 and message.
  const setprivFailure =
    spawnFile === SETPRIV
      ? /^(?:setpriv|nsenter): failed to execute .*: (.*)$/.exec(stderrTail.at(-1) ?? '')
      : null;
  if (setprivFailure && (result.exitCode === 127 || result.exitCode === 126)) {
    return err({
      ...base,
      stderrTail: stderrTail.slice(0, -1),
      reason: 'spawn-error',
      code: result.exitCode === 127 ? 'ENOENT' : 'EACCES',
    });
  }
  if (result.exitCode !== 0)
    return err({ ...base, reason: 'exit-non-zero', exitCode: result.exitCode ?? -1 });
  return ok({ stdout: stdoutAll, stderr: stderrAll, durationMs: Date.now() - started });
};
