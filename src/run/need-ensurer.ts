// env.ensureNeed for the runner: before a step reads a need's files, they are fetched from
// the shared store's step cache, or the need runs again here when the cache cannot give them
// back. An overlay (PlanFacts.readsThrough) is read with the disk below it: when that disk was
// made again here, the overlay is made again too, never read over a different base.
import { err, ok, type Result } from '../core/result.js';
import type { StepGraph } from '../plan/graph.js';
import { decideStep, type PlanFacts } from '../plan/plan.js';
import type { StepId } from '../plan/step.js';
import { fetchNeed } from './cache-restore.js';
import type { EventSink } from './events.js';
import { runStep } from './run-step.js';
import { recordsOf, type StepRunEnv } from './step-attempt.js';

/** What the ensurer reads of the runner's options. */
export interface NeedEnsurerOptions {
  readonly graph: StepGraph;
  readonly facts: PlanFacts;
  readonly emit: EventSink;
}

/**
 * env.ensureNeed: a need's files downloaded from the cache, or the need run again here
 * (forced, not restored) when the cache cannot give them back; once per need and run.
 */
export function needEnsurer(
  options: NeedEnsurerOptions,
  env: () => StepRunEnv,
): (need: StepId, signal: AbortSignal) => Promise<Result<{ reran: boolean }, string>> {
  const ensured = new Map<StepId, Promise<Result<{ reran: boolean }, string>>>();
  /** `need` run again here (forced, not restored), saying `why` in its log; `detail` if it cannot. */
  const runAgain = async (
    need: StepId,
    signal: AbortSignal,
    why: string,
    detail: string,
  ): Promise<Result<{ reran: boolean }, string>> => {
    const spec = options.graph.byId.get(need);
    if (!spec) return err(detail);
    const records = recordsOf(env());
    const decision = decideStep(
      spec,
      { ...options.facts, records, forced: new Set([need]), cached: undefined },
      (id) => {
        const record = records[id];
        return record
          ? { verdict: 'up-to-date', outputDigest: record.outputDigest }
          : { verdict: 'blocked' };
      },
    );
    if (decision.verdict !== 'run') return err(detail);
    const reason = `${why}: runs again here`;
    options.emit({ type: 'step-log', id: need, line: `cache: ${reason}` });
    const outcome = await runStep(
      env(),
      spec,
      { ...decision, cause: 'outputs-changed', reasons: [reason] },
      signal,
    );
    return outcome.state === 'done'
      ? ok({ reran: true })
      : err(`${detail}; running ${need} again here did not finish`);
  };
  const ensure = async (
    need: StepId,
    signal: AbortSignal,
  ): Promise<Result<{ reran: boolean }, string>> => {
    const log = (line: string): void => {
      options.emit({ type: 'step-log', id: need, line });
    };
    const got = await fetchNeed(env(), need, { signal, log });
    if (signal.aborted) return err('canceled');
    if (!got.ok)
      return runAgain(
        need,
        signal,
        `its outputs are not here and the step cache could not give them back (${got.error.detail})`,
        got.error.detail,
      );
    // An overlay's files are read with what they are overlays of (its backing disk). If that
    // was made again here, the overlay no longer matches it: it is made again too.
    const spec = options.graph.byId.get(need);
    if (spec === undefined || options.facts.readsThrough?.has(spec.kind) !== true)
      return ok({ reran: false });
    for (const below of spec.needs) {
      const r = await once(below, signal);
      if (!r.ok) return r;
      if (r.value.reran)
        return runAgain(
          need,
          signal,
          `${below}, whose disk its disk is an overlay of, was made again here`,
          `${below} was made again here and ${need}'s disk is an overlay of its disk`,
        );
    }
    return ok({ reran: false });
  };
  const once = (need: StepId, signal: AbortSignal): Promise<Result<{ reran: boolean }, string>> => {
    let pending = ensured.get(need);
    if (!pending) {
      pending = ensure(need, signal);
      ensured.set(need, pending);
    }
    return pending;
  };
  return once;
}
