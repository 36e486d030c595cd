// The planner: for each step, run / up to date / blocked, and why. Pure: everything
// it needs from disk (recorded steps, input digests, tool versions, artifact checks) is
// gathered beforehand (run/inspect.ts). `plan` prints its result; `apply` executes it,
// deciding each step again with the real outputs of the steps before it.
import {
  diffComponents,
  describeChange,
  fingerprintOf,
  type ChangeReason,
  type FingerprintComponents,
} from './fingerprint.js';
import type { StepGraph } from './graph.js';
import type {
  BoundKind,
  HostFacts,
  RemoteEffect,
  StepDescription,
  JsonValue,
  StepId,
  StepSpec,
} from './step.js';

export type Verdict = 'run' | 'up-to-date' | 'blocked';

/** Why a step runs (or not): the first matching cause, in this order. */
export type Cause =
  | 'blocked'
  | 'upstream-changed'
  | 'never-run'
  | 'interrupted'
  | 'changed'
  | 'outputs-changed'
  | 'forced'
  | 'up-to-date'
  /** Up to date by the record in a shared store, with its outputs not in this work directory. */
  | 'up-to-date-elsewhere'
  /** Must run, but the step cache holds the outputs of its fingerprint: recorded from there. */
  | 'restore';

/** What the planner knows of a completed step (a subset of the state record). */
export interface RecordedStep {
  readonly fingerprint: string;
  readonly components: FingerprintComponents;
  readonly outputDigest: string;
  /** Its files (the state's records have them): what a download of its outputs moves. */
  readonly artifacts?: Readonly<Record<string, { readonly file: string; readonly size: number }>>;
}

/** A step cache entry, as the planner needs it (run/step-cache.ts CachedOutputs has more). */
export interface CachedStep {
  /** The recipe whose run made it. */
  readonly recipe: string;
  readonly outputDigest: string;
  readonly artifacts: Readonly<Record<string, { readonly file: string; readonly size: number }>>;
}

/** The files of a step's outputs that apply would download from the step cache. */
export interface Download {
  readonly artifacts: readonly {
    readonly name: string;
    readonly file: string;
    readonly size: number;
  }[];
  /** Their size (uncompressed: what lands on disk; the transfer is gzip, holes skipped). */
  readonly bytes: number;
  /** The steps that run and read them. */
  readonly readBy: readonly StepId[];
}

export interface StepDecision {
  readonly id: StepId;
  readonly kind: string;
  readonly verdict: Verdict;
  readonly cause: Cause;
  /** Human-readable reasons, most important first. */
  readonly reasons: readonly string[];
  readonly changes: readonly ChangeReason[];
  /** Known when every upstream step is up to date. */
  readonly fingerprint?: string;
  readonly components?: FingerprintComponents;
  readonly description: StepDescription;
  /** cause 'restore': the entry's output digest (what dependents' fingerprints see). */
  readonly restore?: { readonly outputDigest: string; readonly recipe: string };
  /** Its outputs are downloaded from the step cache (a step that runs reads them). */
  readonly download?: Download;
}

/** Everything the planner reads, gathered without side effects. */
/** `params` without the kind's volatile keys: what the fingerprint sees. */
function fingerprintedParams(
  params: JsonValue,
  volatile: readonly string[] | undefined,
): JsonValue {
  if (
    !volatile ||
    volatile.length === 0 ||
    params === null ||
    typeof params !== 'object' ||
    Array.isArray(params)
  )
    return params;
  return Object.fromEntries(Object.entries(params).filter(([key]) => !volatile.includes(key)));
}

export interface PlanFacts {
  readonly graph: StepGraph;
  readonly records: Readonly<Record<string, RecordedStep>>;
  /** Absolute input path -> SHA-256, or undefined when the file is missing. */
  readonly inputDigests: ReadonlyMap<string, string | undefined>;
  /** Tool name -> version, or undefined when it is not installed. */
  readonly toolVersions: ReadonlyMap<string, string | undefined>;
  /** Step id -> what is wrong with its recorded artifacts (missing, modified), if anything. */
  readonly artifactProblems: ReadonlyMap<string, string>;
  /** Steps that were started and not finished (a leftover partial directory). */
  readonly interrupted: ReadonlySet<string>;
  /** The kind of each step, bound to its params (plan/bind-kind.ts), by step id. */
  readonly kinds: ReadonlyMap<StepId, Pick<BoundKind, 'tools' | 'describe' | 'volatileParams'>>;
  readonly host: HostFacts;
  /** The Debian package that provides a tool, for "install it" hints. */
  readonly packageOf: (tool: string) => string | undefined;
  /** Steps to run even if up to date. */
  readonly forced?: ReadonlySet<string>;
  /**
   * Steps recorded in a shared store (another machine ran them) whose artifacts are not
   * in this work directory: up to date while no step that runs needs their files.
   */
  readonly elsewhere?: ReadonlySet<string>;
  /**
   * With a step cache: the entries found, by fingerprint (run/plan-cache.ts looks them up).
   * Undefined without a cache; a step of a fingerprint absent here is not in the cache.
   */
  readonly cached?: ReadonlyMap<string, CachedStep>;
  /**
   * Kinds (by name) that read only their needs' values, never their files (a registration
   * reads the uploaded manifest's location): their needs' files are neither downloaded
   * nor made again here for them.
   */
  readonly readsValuesOnly?: ReadonlySet<string>;
  /**
   * Kinds (by name) whose files are copy-on-write overlays of their needs' files (a qcow2
   * disk whose backing file is the previous step's disk): a step that reads their files
   * reads their needs' files too, so those are downloaded (or made again) for it as well.
   */
  readonly readsThrough?: ReadonlySet<string>;
}

export interface Plan {
  /**
   * The facts the decisions were made with: `facts` given, except that a step recorded
   * elsewhere whose files a running step needs has moved to `artifactProblems` (apply's
   * runner must decide with these, so that it re-runs that step too).
   */
  readonly facts: PlanFacts;
  readonly decisions: readonly StepDecision[];
  readonly counts: { readonly run: number; readonly upToDate: number; readonly blocked: number };
  /** Remote effects of the steps that will run, in graph order. */
  readonly effects: readonly RemoteEffect[];
}

const NO_DESCRIPTION: StepDescription = { summary: '', commands: [], effects: [], notes: [] };

/**
 * Decides one step, given the decisions (or, during apply, the actual outcomes) of its
 * needs: `upstreamDigest(id)` is the output digest of an up-to-date need, undefined
 * for a need that will run or is blocked.
 */
export function decideStep(
  step: StepSpec,
  facts: PlanFacts,
  upstream: (id: StepId) => { readonly verdict: Verdict; readonly outputDigest?: string },
): StepDecision {
  const kind = facts.kinds.get(step.id);
  const description = kind ? safeDescribe(kind, facts.host) : NO_DESCRIPTION;
  const base = { id: step.id, kind: step.kind, description };
  const blocked: string[] = [];
  if (!kind)
    blocked.push(`step kind '${step.kind}' is not available in this version of emi-recipe`);
  for (const tool of kind?.tools ?? []) {
    if (facts.toolVersions.get(tool) === undefined) {
      const pkg = facts.packageOf(tool);
      blocked.push(`${tool} is not installed${pkg ? ` (apt-get install ${pkg})` : ''}`);
    }
  }
  for (const input of step.inputs) {
    if (facts.inputDigests.get(input.path) === undefined)
      blocked.push(`input ${input.name} not found: ${input.path}`);
  }
  const upstreamBlocked = step.needs.filter((need) => upstream(need).verdict === 'blocked');
  if (upstreamBlocked.length > 0)
    blocked.push(`needs ${upstreamBlocked.join(', ')}, which cannot run`);
  if (blocked.length > 0)
    return { ...base, verdict: 'blocked', cause: 'blocked', reasons: blocked, changes: [] };

  const record = facts.records[step.id];
  // A need restored from the cache runs, but its output digest is known already.
  const upstreamRunning = step.needs.filter((need) => {
    const u = upstream(need);
    return u.verdict === 'run' && u.outputDigest === undefined;
  });
  if (upstreamRunning.length > 0 && !record) {
    return facts.interrupted.has(step.id)
      ? {
          ...base,
          verdict: 'run',
          cause: 'interrupted',
          reasons: ['was interrupted: starts over from its inputs'],
          changes: [],
        }
      : { ...base, verdict: 'run', cause: 'never-run', reasons: ['never run'], changes: [] };
  }
  if (upstreamRunning.length > 0) {
    return {
      ...base,
      verdict: 'run',
      cause: 'upstream-changed',
      reasons: [`runs after ${upstreamRunning.join(', ')} (upstream changed)`],
      changes: upstreamRunning.map((s) => ({ kind: 'upstream', step: s })),
    };
  }

  const components: FingerprintComponents = {
    kind: step.kind,
    params: fingerprintedParams(step.params, kind?.volatileParams),
    inputs: Object.fromEntries(
      step.inputs.map((i) => [i.name, facts.inputDigests.get(i.path) ?? '']),
    ),
    upstream: Object.fromEntries(
      [...step.needs].sort().map((need) => [need, upstream(need).outputDigest ?? '']),
    ),
    tools: Object.fromEntries(
      [...(kind?.tools ?? [])].sort().map((t) => [t, facts.toolVersions.get(t) ?? '']),
    ),
  };
  const fingerprint = fingerprintOf(components);
  const known = { ...base, fingerprint, components };
  const decided = decideKnown(step, facts, known, record);
  const entry = facts.cached?.get(fingerprint);
  // --force means run it: never restored, whatever its cause.
  if (decided.verdict !== 'run' || facts.forced?.has(step.id) === true || entry === undefined)
    return decided;
  return {
    ...decided,
    cause: 'restore',
    reasons: [`restore from the cache (made by recipe ${entry.recipe})`, ...decided.reasons],
    restore: { outputDigest: entry.outputDigest, recipe: entry.recipe },
  };
}

/** The decision of a step whose fingerprint is known, before the step cache is asked. */
function decideKnown(
  step: StepSpec,
  facts: PlanFacts,
  known: Omit<StepDecision, 'verdict' | 'cause' | 'reasons' | 'changes'> & {
    fingerprint: string;
    components: FingerprintComponents;
  },
  record: RecordedStep | undefined,
): StepDecision {
  const { fingerprint, components } = known;
  if (!record) {
    if (facts.interrupted.has(step.id)) {
      return {
        ...known,
        verdict: 'run',
        cause: 'interrupted',
        reasons: ['was interrupted: starts over from its inputs'],
        changes: [],
      };
    }
    return { ...known, verdict: 'run', cause: 'never-run', reasons: ['never run'], changes: [] };
  }
  if (record.fingerprint !== fingerprint) {
    const changes = diffComponents(record.components, components);
    return {
      ...known,
      verdict: 'run',
      cause: 'changed',
      reasons: changes.map(describeChange),
      changes,
    };
  }
  const problem = facts.artifactProblems.get(step.id);
  if (problem !== undefined)
    return { ...known, verdict: 'run', cause: 'outputs-changed', reasons: [problem], changes: [] };
  if (facts.forced?.has(step.id))
    return {
      ...known,
      verdict: 'run',
      cause: 'forced',
      reasons: ['forced with --force'],
      changes: [],
    };
  if (facts.elsewhere?.has(step.id))
    return {
      ...known,
      verdict: 'up-to-date',
      cause: 'up-to-date-elsewhere',
      reasons: ['up to date in the store; outputs not in this work directory'],
      changes: [],
    };
  return {
    ...known,
    verdict: 'up-to-date',
    cause: 'up-to-date',
    reasons: ['up to date'],
    changes: [],
  };
}

/** Decides every step in graph order with `facts` (plan-steps.ts planSteps plans with it). */
export function decideAll(facts: PlanFacts): Map<StepId, StepDecision> {
  const decisions = new Map<StepId, StepDecision>();
  for (const step of facts.graph.steps) {
    decisions.set(
      step.id,
      decideStep(step, facts, (need) => {
        const decision = decisions.get(need);
        if (!decision) return { verdict: 'blocked' };
        const outputDigest =
          decision.verdict === 'up-to-date'
            ? facts.records[need]?.outputDigest
            : decision.restore?.outputDigest;
        return {
          verdict: decision.verdict,
          ...(outputDigest !== undefined ? { outputDigest } : {}),
        };
      }),
    );
  }
  return decisions;
}

function safeDescribe(kind: Pick<BoundKind, 'describe'>, host: HostFacts): StepDescription {
  try {
    return kind.describe(host);
  } catch (error) {
    // describe() is pure and must not throw; if it does, the plan still shows the step.
    return { ...NO_DESCRIPTION, summary: `(cannot describe: ${(error as Error).message})` };
  }
}
