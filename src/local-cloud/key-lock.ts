// Per-key serialization inside one process: tasks run one after another for the same
// key, concurrently for different keys. The local cloud's store makes check-then-write
// steps atomic with it (a conditional PUT's "does the key exist?" and the write that
// follows), since one process owns a data directory.

/** Runs tasks for the same key one at a time, in the order they were queued. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` once every task queued before it for `key` has settled. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const running = previous.then(task);
    const tail = running.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await running;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** True while a task for `key` runs or waits (tests). */
  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }
}
