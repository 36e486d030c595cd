// What a long operation gets from its caller: cancellation, a log sink and progress.
// The engine's step context extends this; tools and bundle code need nothing more.

/** Progress of a long operation; `total` when known, so that a percentage can be shown. */
export interface ProgressUpdate {
  readonly done: number;
  readonly total?: number;
  readonly unit: 'bytes' | 'percent' | 'items';
  /** A short phrase for what is happening now ("unpacking", "part 3 of 12"). */
  readonly message?: string;
}

export interface TaskContext {
  /** Aborted on Ctrl-C/SIGTERM or when the run stops: stop promptly, leave no partial output. */
  readonly signal: AbortSignal;
  /** One line for the operation's log (file, and the terminal with --verbose). No secrets. */
  readonly log: (line: string) => void;
  readonly progress: (update: ProgressUpdate) => void;
}

/** A context that discards logs and progress (tests, probes). */
export function quietTask(signal: AbortSignal = new AbortController().signal): TaskContext {
  return { signal, log: () => undefined, progress: () => undefined };
}
