// Steps that are done here before they are recorded in the store: with a step cache, a step
// that finished counts as done for this run at once (its dependents start on its files), and
// its outputs go up to the cache, then its record goes into the state, in the background.
// The store's order is kept: a record is written only after the records of the step's needs
// (so the shared state never shows a step done without its needs), and only after its
// upload ended (so "done in the store" still implies "in the cache", unless the upload
// failed or was stopped, which is a warning). The run waits for all of it before it ends.
import type { StepId } from '../plan/step.js';
import type { StepRecord } from './state.js';

export class DeferredRecords {
  /** Records done here but not yet in the store, by step. */
  readonly #held = new Map<StepId, StepRecord>();
  /** Whether each held (or once held) step's record went into the store. */
  readonly #written = new Map<StepId, Promise<boolean>>();
  readonly #work = new Set<Promise<unknown>>();
  readonly #failed: StepId[] = [];

  /** `signal`: the run's (Ctrl-C), which stops the uploads. */
  constructor(readonly signal: AbortSignal) {}

  /** The records the run sees: the store's, then those still being written over them. */
  records(stored: Readonly<Record<string, StepRecord>>): Readonly<Record<string, StepRecord>> {
    if (this.#held.size === 0) return stored;
    return { ...stored, ...Object.fromEntries(this.#held) };
  }

  /**
   * Holds `record` as done for this run, and starts `publish` (which writes it to the store
   * and resolves true, or reports why not and resolves false) once `needs`' records are
   * written. A need whose record could not be written makes `refuse` run instead. Resolves
   * (never rejects) with whether the record went into the store.
   */
  hold(
    id: StepId,
    needs: readonly StepId[],
    record: StepRecord,
    publish: () => Promise<boolean>,
    refuse: (needs: readonly StepId[]) => void,
  ): Promise<boolean> {
    this.#held.set(id, record);
    const written = this.needsWritten(needs)
      .then(async (failedNeeds) => {
        if (failedNeeds.length === 0) return publish();
        refuse(failedNeeds);
        return false;
      })
      .catch(() => false)
      .then((ok) => {
        this.#held.delete(id);
        if (!ok) this.#failed.push(id);
        return ok;
      });
    this.#written.set(id, written);
    this.add(written);
    return written;
  }

  /** Waits for the needs' records still being written; resolves with those that failed. */
  async needsWritten(needs: readonly StepId[]): Promise<StepId[]> {
    const results = await Promise.all(
      needs.map(async (need) => ({ need, ok: (await this.#written.get(need)) ?? true })),
    );
    return results.filter((r) => !r.ok).map((r) => r.need);
  }

  /** Work the run waits for before it ends (a step's log, closed once its upload ended). */
  add(work: Promise<unknown>): void {
    // Handled at once: a rejection before settled() is called must not end the process.
    this.#work.add(work.catch(() => undefined));
  }

  /** Resolves once everything held is written (or failed) and all work has ended. */
  async settled(): Promise<void> {
    while (this.#work.size > 0) {
      const work = [...this.#work];
      await Promise.allSettled(work);
      for (const w of work) this.#work.delete(w);
    }
  }

  /** Steps that were done here but whose record could not be written to the store. */
  get failed(): readonly StepId[] {
    return this.#failed;
  }
}
