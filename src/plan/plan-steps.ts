// planSteps: the whole plan from plan.ts's decisions, and, with a shared store, what it
// fetches instead of running: steps up to date elsewhere (another machine ran them) whose
// files a step that runs here reads come from the step cache when it holds them, else run
// again here; steps restored from the cache are downloaded only when a step that runs
// here reads them. Pure, like plan.ts.
import { decideAll, type Download, type Plan, type PlanFacts, type StepDecision } from './plan.js';
import type { StepId } from './step.js';

/** Whether the step really runs here (not restored from the cache). */
const runsHere = (d: StepDecision | undefined): boolean =>
  d?.verdict === 'run' && d.cause !== 'restore';

/** Whether the step runs here and reads its needs' files. */
const readsFilesHere = (facts: PlanFacts, d: StepDecision | undefined): boolean =>
  runsHere(d) && d !== undefined && facts.readsValuesOnly?.has(d.kind) !== true;

/**
 * The steps whose files a step reading `need`'s files reads: `need`, and below it, through
 * the kinds whose files are overlays of their needs' (PlanFacts.readsThrough), theirs.
 */
export function filesReadThrough(
  facts: Pick<PlanFacts, 'graph' | 'readsThrough'>,
  need: StepId,
): StepId[] {
  const out: StepId[] = [];
  const visit = (id: StepId): void => {
    if (out.includes(id)) return;
    out.push(id);
    const spec = facts.graph.byId.get(id);
    if (spec !== undefined && facts.readsThrough?.has(spec.kind) === true)
      for (const below of spec.needs) visit(below);
  };
  visit(need);
  return out;
}

/** The steps whose files `step` reads when it runs: its needs, and what they are overlays of. */
const filesReadBy = (facts: PlanFacts, needs: readonly StepId[]): StepId[] => [
  ...new Set(needs.flatMap((need) => filesReadThrough(facts, need))),
];

/** Whether the cache holds the outputs of a step up to date elsewhere (its recorded fingerprint). */
function inCache(facts: PlanFacts, id: StepId): boolean {
  const record = facts.records[id];
  return record !== undefined && facts.cached?.has(record.fingerprint) === true;
}

/**
 * Steps up to date elsewhere (their files not here) that a step running here needs and the
 * step cache does not hold, each with the steps that need it: they run again here.
 */
export function neededElsewhere(
  facts: PlanFacts,
  decisions: ReadonlyMap<StepId, StepDecision>,
): Map<StepId, StepId[]> {
  const needed = new Map<StepId, StepId[]>();
  for (const step of facts.graph.steps) {
    if (!readsFilesHere(facts, decisions.get(step.id))) continue;
    for (const need of filesReadBy(facts, step.needs)) {
      if (decisions.get(need)?.cause !== 'up-to-date-elsewhere') continue;
      if (inCache(facts, need)) continue;
      needed.set(need, [...(needed.get(need) ?? []), step.id]);
    }
  }
  return needed;
}

/**
 * The facts for apply's runner: a step recorded elsewhere that the plan runs anyway (below
 * a step that runs) must not be skipped at run time when its upstream's outputs come out
 * unchanged, since the steps after it need its files here. So it counts as outputs missing.
 */
export function runningElsewhereHere(
  facts: PlanFacts,
  decisions: ReadonlyMap<StepId, StepDecision>,
): PlanFacts {
  const elsewhere = [...(facts.elsewhere ?? [])];
  const running = elsewhere.filter((id) => runsHere(decisions.get(id as StepId)));
  if (running.length === 0) return facts;
  const problems = new Map(facts.artifactProblems);
  for (const id of running)
    problems.set(id, 'its outputs are not in this work directory: runs again here');
  return {
    ...facts,
    artifactProblems: problems,
    elsewhere: new Set(elsewhere.filter((id) => !running.includes(id))),
  };
}

/** The files of a need whose outputs are not here: its cache entry's, or its record's. */
function filesOf(
  facts: PlanFacts,
  id: StepId,
  decision: StepDecision,
): Download['artifacts'] | undefined {
  const from =
    decision.cause === 'restore' && decision.fingerprint !== undefined
      ? facts.cached?.get(decision.fingerprint)?.artifacts
      : decision.cause === 'up-to-date-elsewhere'
        ? facts.records[id]?.artifacts
        : undefined;
  if (from === undefined) return undefined;
  return Object.entries(from)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, a]) => ({ name, file: a.file, size: a.size }));
}

/**
 * The decisions in graph order, each step whose outputs a step running here reads, and
 * which are not here (restored from the cache, or up to date elsewhere and in the cache),
 * with what would be downloaded.
 */
export function withDownloads(
  facts: PlanFacts,
  decisions: ReadonlyMap<StepId, StepDecision>,
): StepDecision[] {
  const readBy = new Map<StepId, StepId[]>();
  for (const step of facts.graph.steps) {
    if (!readsFilesHere(facts, decisions.get(step.id))) continue;
    for (const need of filesReadBy(facts, step.needs))
      readBy.set(need, [...(readBy.get(need) ?? []), step.id]);
  }
  return facts.graph.steps.flatMap((step) => {
    const decision = decisions.get(step.id);
    if (!decision) return [];
    const by = readBy.get(step.id);
    const artifacts = by !== undefined ? filesOf(facts, step.id, decision) : undefined;
    if (by === undefined || artifacts === undefined || artifacts.length === 0) return [decision];
    const bytes = artifacts.reduce((sum, a) => sum + a.size, 0);
    return [{ ...decision, download: { artifacts, bytes, readBy: by } }];
  });
}

/**
 * Plans every step in graph order. A step up to date elsewhere whose files a running step
 * needs, and which the step cache does not hold, runs again (`outputs-changed`, saying
 * who needs them); then the graph is decided again, until no such step is left (each
 * round moves at least one step: it ends). Those the cache holds are downloaded.
 */
export function planSteps(given: PlanFacts): Plan {
  let facts = given;
  let decisions = decideAll(facts);
  for (let needed = neededElsewhere(facts, decisions); needed.size > 0;) {
    const problems = new Map(facts.artifactProblems);
    for (const [id, by] of needed)
      problems.set(
        id,
        `up to date in the store, but its outputs are not in this work directory${facts.cached !== undefined ? ' nor in the step cache' : ''} and ${by.join(', ')} ${by.length === 1 ? 'needs' : 'need'} them: runs again here`,
      );
    const elsewhere = new Set(
      [...(facts.elsewhere ?? [])].filter((id) => !needed.has(id as StepId)),
    );
    facts = { ...facts, artifactProblems: problems, elsewhere };
    decisions = decideAll(facts);
    needed = neededElsewhere(facts, decisions);
  }
  facts = runningElsewhereHere(facts, decisions);
  const list = withDownloads(facts, decisions);
  return {
    facts,
    decisions: list,
    counts: {
      run: list.filter((d) => d.verdict === 'run').length,
      upToDate: list.filter((d) => d.verdict === 'up-to-date').length,
      blocked: list.filter((d) => d.verdict === 'blocked').length,
    },
    effects: list.filter((d) => d.verdict === 'run').flatMap((d) => d.description.effects),
  };
}
