// The step graph: checks (unknown needs, cycles) with locations, topological order and
// downstream sets. Pure (STYLE.md §1: plan/ has no side effects).
import type { Diagnostic, Location } from '../core/diagnostic.js';
import type { StepId, StepSpec } from './step.js';

/** A dependency edge and where in the recipe it comes from. */
export interface GraphEdge {
  readonly from: StepId;
  readonly to: StepId;
  readonly location?: Location;
}

/**
 * A checked graph: steps in a stable topological order (needs before dependents). S is
 * the steps' type: BuiltinStepSpec for the default graph, whose params are typed by kind.
 */
export interface StepGraph<S extends StepSpec = StepSpec> {
  readonly steps: readonly S[];
  readonly byId: ReadonlyMap<StepId, S>;
  /** Direct dependents of each step. */
  readonly dependents: ReadonlyMap<StepId, readonly StepId[]>;
}

export interface GraphInput<S extends StepSpec = StepSpec> {
  readonly steps: readonly S[];
  /** Where each explicit edge comes from (e.g. a ${steps.…} placeholder), for messages. */
  readonly edgeLocations?: ReadonlyMap<string, Location>;
  /** Fallback place for messages about a step (its recipe section). */
  readonly locate: (step: S) => Location;
}

const edgeKey = (from: StepId, to: StepId): string => `${from}->${to}`;

/**
 * Checks and orders the graph. Every unknown need and every cycle is reported; a cycle
 * lists each of its edges with its own location, starting from the smallest step id,
 * so the message is stable.
 */
export function buildGraph<S extends StepSpec>(
  input: GraphInput<S>,
): { graph?: StepGraph<S>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byId = new Map<StepId, S>();
  for (const step of input.steps) {
    if (byId.has(step.id)) {
      diagnostics.push({
        severity: 'error',
        message: `step '${step.id}' is defined twice`,
        location: input.locate(step),
      });
    }
    byId.set(step.id, step);
  }
  const where = (from: S, to: StepId): Location =>
    input.edgeLocations?.get(edgeKey(from.id, to)) ?? input.locate(from);
  for (const step of input.steps) {
    for (const need of step.needs) {
      if (!byId.has(need)) {
        const known = [...byId.keys()].sort().join(', ');
        diagnostics.push({
          severity: 'error',
          message: `step '${step.id}' needs '${need}', which does not exist (steps: ${known})`,
          location: where(step, need),
        });
      }
    }
  }
  if (diagnostics.length > 0) return { diagnostics };

  // Depth-first search for cycles; then Kahn's algorithm with sorted ready sets for a stable order.
  const state = new Map<StepId, 'visiting' | 'done'>();
  const stack: StepId[] = [];
  const reported = new Set<string>();
  const visit = (id: StepId): void => {
    const step = byId.get(id);
    if (!step) return; // (every need is a step: unknown needs were reported above)
    state.set(id, 'visiting');
    stack.push(id);
    for (const need of [...step.needs].sort()) {
      if (state.get(need) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(need));
        const start = cycle.indexOf([...cycle].sort()[0] ?? need);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = ordered.join(' ');
        if (!reported.has(key)) {
          reported.add(key);
          const edges = ordered.map((from, i) => {
            const to = ordered[(i + 1) % ordered.length] ?? from;
            return { from, to };
          });
          const first = edges[0];
          const firstStep = first ? byId.get(first.from) : undefined;
          diagnostics.push({
            severity: 'error',
            message: `dependency cycle: ${[...ordered, ordered[0]].join(' -> ')}`,
            location: firstStep && first ? where(firstStep, first.to) : input.locate(step),
            related: edges.map((e) => {
              const from = byId.get(e.from);
              return {
                message: `'${e.from}' needs '${e.to}'`,
                location: from ? where(from, e.to) : input.locate(step),
              };
            }),
          });
        }
      } else if (state.get(need) === undefined) {
        visit(need);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of [...byId.keys()].sort()) if (state.get(id) === undefined) visit(id);
  if (diagnostics.length > 0) return { diagnostics };

  const remaining = new Map<StepId, number>();
  const dependents = new Map<StepId, StepId[]>();
  for (const step of input.steps) {
    remaining.set(step.id, new Set(step.needs).size);
    for (const need of new Set(step.needs))
      dependents.set(need, [...(dependents.get(need) ?? []), step.id]);
  }
  const declared = new Map(input.steps.map((s, i) => [s.id, i]));
  const byDeclaration = (a: StepId, b: StepId): number =>
    (declared.get(a) ?? 0) - (declared.get(b) ?? 0);
  let ready = input.steps.filter((s) => remaining.get(s.id) === 0).map((s) => s.id);
  const ordered: S[] = [];
  while (ready.length > 0) {
    ready.sort(byDeclaration);
    const next: StepId[] = [];
    for (const id of ready) {
      const step = byId.get(id);
      if (step) ordered.push(step);
      for (const dependent of dependents.get(id) ?? []) {
        const left = (remaining.get(dependent) ?? 0) - 1;
        remaining.set(dependent, left);
        if (left === 0) next.push(dependent);
      }
    }
    ready = next;
  }
  return { graph: { steps: ordered, byId, dependents }, diagnostics };
}

/** Every step downstream of `ids` (not including them), in graph order. */
export function downstreamOf(graph: StepGraph, ids: Iterable<StepId>): Set<StepId> {
  const out = new Set<StepId>();
  const queue = [...ids];
  while (queue.length > 0) {
    const id = queue.shift() as StepId;
    for (const dependent of graph.dependents.get(id) ?? []) {
      if (!out.has(dependent)) {
        out.add(dependent);
        queue.push(dependent);
      }
    }
  }
  return out;
}

/** Every step upstream of `id` (its transitive needs). */
export function upstreamOf(graph: StepGraph, id: StepId): Set<StepId> {
  const out = new Set<StepId>();
  const queue = [...(graph.byId.get(id)?.needs ?? [])];
  while (queue.length > 0) {
    const need = queue.shift() as StepId;
    if (out.has(need)) continue;
    out.add(need);
    queue.push(...(graph.byId.get(need)?.needs ?? []));
  }
  return out;
}
