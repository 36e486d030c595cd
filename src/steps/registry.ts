// The built-in step kinds, by kind name. The CLI hands this map to the runner, so run/
// never imports steps/ (STYLE.md §1).
import type { StepKind } from '../plan/step.js';

/** Every step kind this version of emi-recipe can run. */
export function builtinStepKinds(): ReadonlyMap<string, StepKind> {
  const kinds: StepKind[] = [];
  return new Map(kinds.map((k) => [k.kind, k]));
}
