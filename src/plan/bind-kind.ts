// Binding a step to its kind: the typed StepKind<P> and the step's StepSpec<P> become a
// BoundKind, which the planner and the runner call without knowing P. For the built-in
// kinds, the step's `kind` picks both the table entry and the params' type (a correlated
// union), so a step never meets a kind of other params and nothing is cast. Pure.
import type { BuiltinKind, BuiltinKinds, BuiltinStepSpec } from './step-params.js';
import { ok } from '../core/result.js';
import type { BoundKind, StepId, StepKind, StepKinds, StepSpec } from './step.js';
import { resolveStepRefs } from './step-refs.js';

/** `kind` bound to `step`, whose params are the kind's and whose `kind` is its name. */
export function bindKind<P, K extends string>(
  kind: StepKind<P, K>,
  step: StepSpec<P, NoInfer<K>>,
): BoundKind {
  const { verify } = kind;
  return {
    tools: kind.tools,
    volatileParams: kind.volatileParams ?? [],
    typicalMs: kind.typicalMs ?? 1000,
    describe: (facts) => kind.describe(step, facts),
    ...(verify ? { verify: (values, signal) => verify(step, values, signal) } : {}),
    resolve: (outputs) => {
      const params = resolveStepRefs(step.params, outputs);
      if (!params.ok) return params;
      const resolved = { ...step, params: params.value };
      return ok({ run: (ctx) => kind.run({ ...ctx, step: resolved }) });
    },
  };
}

/** A built-in step bound to its kind in `kinds`: the one whose name is the step's `kind`. */
export function bindBuiltin<K extends BuiltinKind>(
  kinds: BuiltinKinds,
  step: BuiltinStepSpec<K>,
): BoundKind {
  const kind: BuiltinKinds[K] = kinds[step.kind];
  return bindKind(kind, step);
}

/** Each step bound with `bind`, by step id; a step `bind` has no kind for is left out. */
export function bindSteps<S extends StepSpec>(
  steps: readonly S[],
  bind: (step: S) => BoundKind | undefined,
): StepKinds {
  const bound = new Map<StepId, BoundKind>();
  for (const step of steps) {
    const kind = bind(step);
    if (kind) bound.set(step.id, kind);
  }
  return bound;
}

/** Each step of the default graph bound to its entry in the built-in kinds' table, by step id. */
export function bindBuiltinSteps(
  steps: readonly BuiltinStepSpec[],
  kinds: BuiltinKinds,
): StepKinds {
  return bindSteps(steps, (step) => bindBuiltin(kinds, step));
}
