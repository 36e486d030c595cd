// Fake steps for the scheduler's unit tests: each start is journaled and waits until the
// test finishes it by hand (explicit promises, never a timer).
import type { SchedulerStep, StepOutcome } from '../../src/run/scheduler.js';

const DONE: StepOutcome = { state: 'done', ran: true };

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Fake steps: each start is journaled and returns a promise the test settles with
 * `finish`; a step whose signal aborts ends as 'canceled', like a well-behaved step.
 * `now` gives outcomes returned at once (no slot).
 */
export class FakeSteps {
  readonly journal: string[] = [];
  readonly signals = new Map<string, AbortSignal>();
  maxRunning = 0;
  readonly #running = new Map<string, (outcome: StepOutcome) => void>();
  readonly #started = new Map<string, Deferred<AbortSignal>>();
  readonly #now: Readonly<Record<string, StepOutcome>>;

  constructor(options: { now?: Record<string, StepOutcome> } = {}) {
    this.#now = options.now ?? {};
  }

  readonly start = (s: SchedulerStep, signal: AbortSignal): StepOutcome | Promise<StepOutcome> => {
    this.journal.push(`start ${s.id}`);
    this.signals.set(s.id, signal);
    this.#startedOf(s.id).resolve(signal);
    const now = this.#now[s.id];
    if (now) return now;
    const ended = deferred<StepOutcome>();
    this.#running.set(s.id, ended.resolve);
    this.maxRunning = Math.max(this.maxRunning, this.#running.size);
    signal.addEventListener('abort', () => {
      this.finish(s.id, { state: 'canceled' });
    });
    return ended.promise;
  };

  /** Resolves once `id` has started, with its signal. */
  whenStarted(id: string): Promise<AbortSignal> {
    return this.#startedOf(id).promise;
  }

  finish(id: string, outcome: StepOutcome = DONE): void {
    const resolve = this.#running.get(id);
    if (!resolve) return;
    this.#running.delete(id);
    this.journal.push(`end ${id}`);
    resolve(outcome);
  }

  running(): string[] {
    return [...this.#running.keys()];
  }

  #startedOf(id: string): Deferred<AbortSignal> {
    let d = this.#started.get(id);
    if (!d) {
      d = deferred<AbortSignal>();
      this.#started.set(id, d);
    }
    return d;
  }
}
