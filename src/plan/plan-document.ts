// The plan as a stable JSON document (schemas/plan.schema.json): what `plan --json`
// prints, what `plan --out` saves and what `apply plan.json` checks before running. Pure.
import { canonicalJson, sha256Hex } from '../core/hash.js';
import type { ChangeReason } from './fingerprint.js';
import type { StepGraph } from './graph.js';
import type { Cause, Download, Plan, RecordedStep, Verdict } from './plan.js';
import type { HostFacts, RemoteEffect } from './step.js';

export const PLAN_FORMAT = 1;

export interface PlanStepJson {
  readonly id: string;
  readonly kind: string;
  readonly needs: readonly string[];
  readonly verdict: Verdict;
  readonly cause: Cause;
  readonly reasons: readonly string[];
  readonly changes: readonly ChangeReason[];
  readonly fingerprint: string | null;
  readonly summary: string;
  readonly commands: readonly string[];
  readonly effects: readonly RemoteEffect[];
  readonly notes: readonly string[];
  /** Its outputs would be downloaded from the step cache (a step that runs reads them). */
  readonly download?: Download;
}

/** What the plan was computed from; `apply plan.json` refuses when any of it changed. */
export interface PlanBasis {
  readonly recipeSha256: string;
  /** Digest of the recorded steps in state.json. */
  readonly stateDigest: string;
  /** Input file path -> SHA-256 (null: missing). */
  readonly inputs: Readonly<Record<string, string | null>>;
}

export interface PlanDocument {
  readonly planFormat: number;
  readonly tool: { readonly name: 'emi-recipe'; readonly version: string };
  readonly recipe: { readonly name: string; readonly path: string };
  readonly workDir: string;
  /** The shared store the state came from (absent: the work directory). */
  readonly store?: { readonly url: string; readonly locking: boolean };
  readonly host: HostFacts;
  readonly steps: readonly PlanStepJson[];
  readonly effects: readonly RemoteEffect[];
  readonly summary: {
    readonly run: number;
    readonly upToDate: number;
    readonly blocked: number;
    /** Image types that will be registered: eki, eri, emi. */
    readonly register: readonly ('eki' | 'eri' | 'emi')[];
    /** With a shared store: steps restored from the step cache (counted in `run` too). */
    readonly restore?: number;
    /** With a shared store: what would be downloaded from the step cache. */
    readonly download?: { readonly files: number; readonly bytes: number };
  };
  readonly basis: PlanBasis;
}

/** Digest of the recorded steps (what `apply` would start from). */
export function stateDigest(records: Readonly<Record<string, RecordedStep>>): string {
  const compact = Object.fromEntries(
    Object.entries(records)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, r]) => [id, { fingerprint: r.fingerprint, outputDigest: r.outputDigest }]),
  );
  return sha256Hex(canonicalJson(compact));
}

const ID_PREFIX = { kernel: 'eki', ramdisk: 'eri', machine: 'emi' } as const;

/** Builds the document for a plan. */
export function planDocument(input: {
  readonly plan: Plan;
  readonly graph: StepGraph;
  readonly version: string;
  readonly recipe: { readonly name: string; readonly path: string };
  readonly recipeText: string;
  readonly workDir: string;
  readonly store?: { readonly url: string; readonly locking: boolean };
  readonly host: HostFacts;
  readonly records: Readonly<Record<string, RecordedStep>>;
  readonly inputDigests: ReadonlyMap<string, string | undefined>;
}): PlanDocument {
  const { plan } = input;
  const steps = plan.decisions.map((d): PlanStepJson => ({
    id: d.id,
    kind: d.kind,
    needs: input.graph.byId.get(d.id)?.needs ?? [],
    verdict: d.verdict,
    cause: d.cause,
    reasons: d.reasons,
    changes: d.changes,
    fingerprint: d.fingerprint ?? null,
    summary: d.description.summary,
    commands: d.description.commands,
    effects: d.description.effects,
    notes: d.description.notes,
    ...(d.download !== undefined ? { download: d.download } : {}),
  }));
  const downloads = plan.decisions.flatMap((d) => (d.download ? [d.download] : []));
  const cacheSummary =
    input.store !== undefined
      ? {
          restore: plan.decisions.filter((d) => d.cause === 'restore').length,
          download: {
            files: downloads.reduce((n, d) => n + d.artifacts.length, 0),
            bytes: downloads.reduce((n, d) => n + d.bytes, 0),
          },
        }
      : {};
  const register = plan.effects.flatMap((e) =>
    e.kind === 'register' ? [ID_PREFIX[e.imageType]] : [],
  );
  return {
    planFormat: PLAN_FORMAT,
    tool: { name: 'emi-recipe', version: input.version },
    recipe: input.recipe,
    workDir: input.workDir,
    ...(input.store !== undefined ? { store: input.store } : {}),
    host: input.host,
    steps,
    effects: plan.effects,
    summary: {
      run: plan.counts.run,
      upToDate: plan.counts.upToDate,
      blocked: plan.counts.blocked,
      register,
      ...cacheSummary,
    },
    basis: {
      recipeSha256: sha256Hex(input.recipeText),
      stateDigest: stateDigest(input.records),
      inputs: Object.fromEntries(
        [...input.inputDigests.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([p, d]) => [p, d ?? null]),
      ),
    },
  };
}

/**
 * Why a saved plan no longer matches the current one (empty when it still does):
 * the recipe, an input or the state changed, or the steps to run differ.
 */
export function stalePlanReasons(saved: PlanDocument, current: PlanDocument): string[] {
  const reasons: string[] = [];
  if (saved.planFormat !== current.planFormat)
    reasons.push(
      `the plan file has format ${saved.planFormat}, this emi-recipe writes ${current.planFormat}`,
    );
  if (saved.basis.recipeSha256 !== current.basis.recipeSha256)
    reasons.push('the recipe changed since the plan was made');
  for (const path of new Set([
    ...Object.keys(saved.basis.inputs),
    ...Object.keys(current.basis.inputs),
  ])) {
    if (saved.basis.inputs[path] !== current.basis.inputs[path])
      reasons.push(`input ${path} changed since the plan was made`);
  }
  if (saved.basis.stateDigest !== current.basis.stateDigest)
    reasons.push('the work directory changed since the plan was made (another apply ran)');
  const toRun = (doc: PlanDocument): string =>
    doc.steps
      .filter((s) => s.verdict === 'run')
      .map((s) => s.id)
      .join(',');
  if (reasons.length === 0 && toRun(saved) !== toRun(current))
    reasons.push(
      `the steps to run differ: planned ${toRun(saved) || 'none'}, now ${toRun(current) || 'none'}`,
    );
  return reasons;
}
