// Plans with a step cache: asks the cache for the entries of the fingerprints the plan
// would run (and of the steps recorded elsewhere), then plans again with what it found,
// since a restored step's output digest makes its dependents' fingerprints known. Ends
// when no new fingerprint is asked (each round asks at least one more). Reads only.
import type { CachedStep, Plan, PlanFacts } from '../plan/plan.js';
import { planSteps } from '../plan/plan-steps.js';
import type { StepCache } from './step-cache.js';

/** The plan, and what the cache said that the user should know (entries refused, errors). */
export interface CachedPlan {
  readonly plan: Plan;
  readonly problems: readonly string[];
}

/** How many lookups run at once. */
const PARALLEL = 8;

/** planSteps, with `facts.cached` filled from `cache` (none: planSteps as it is). */
export async function planWithCache(
  facts: PlanFacts,
  cache: StepCache | undefined,
  signal: AbortSignal,
): Promise<CachedPlan> {
  if (cache === undefined) return { plan: planSteps(facts), problems: [] };
  const cached = new Map<string, CachedStep>();
  const asked = new Set<string>();
  const problems: string[] = [];
  for (;;) {
    const plan = planSteps({ ...facts, cached });
    const wanted = new Set<string>();
    for (const d of plan.decisions) {
      if (!cache.caches(d.kind) || d.fingerprint === undefined) continue;
      if (d.verdict === 'run' && d.cause !== 'forced' && d.cause !== 'restore')
        wanted.add(d.fingerprint);
    }
    for (const id of facts.elsewhere ?? []) {
      const record = facts.records[id];
      const kind = facts.graph.byId.get(id as never)?.kind;
      if (record && kind !== undefined && cache.caches(kind)) wanted.add(record.fingerprint);
    }
    const next = [...wanted].filter((fingerprint) => !asked.has(fingerprint));
    if (next.length === 0 || signal.aborted) return { plan, problems };
    for (let i = 0; i < next.length; i += PARALLEL) {
      const batch = next.slice(i, i + PARALLEL);
      const found = await Promise.all(batch.map((f) => cache.lookup(f, signal)));
      batch.forEach((fingerprint, j) => {
        asked.add(fingerprint);
        const answer = found[j];
        if (answer?.found !== undefined) cached.set(fingerprint, answer.found);
        else if (answer?.problem !== undefined) problems.push(answer.problem);
      });
    }
  }
}
