// ${steps.<id>.<output>} placeholders in step params, filled in from the outputs of the
// steps they name just before a step runs (the graph made those steps its needs). Pure.
import { err, ok, type Result } from '../core/result.js';
import type { JsonValue } from './step.js';

const REF = /(?<!\$)\$\{steps\.([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9_]*)\}/g;

export interface MissingOutput {
  readonly step: string;
  readonly output: string;
  readonly available: readonly string[];
}

/**
 * `params` with every step placeholder replaced by the named output (as text). An
 * output that does not exist is reported with the outputs that do.
 */
export function resolveStepRefs(
  params: JsonValue,
  outputs: (step: string) => Readonly<Record<string, JsonValue>> | undefined,
): Result<JsonValue, MissingOutput> {
  let missing: MissingOutput | undefined;
  const visit = (value: JsonValue): JsonValue => {
    if (typeof value === 'string') {
      return value.replace(REF, (whole, step: string, output: string) => {
        const values = outputs(step);
        // An own output only: `${steps.x.constructor}` must not read Object.prototype.
        const found = values && Object.hasOwn(values, output) ? values[output] : undefined;
        if (found === undefined) {
          missing ??= { step, output, available: Object.keys(values ?? {}) };
          return whole;
        }
        return typeof found === 'string' ? found : JSON.stringify(found);
      });
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  const resolved = visit(params);
  return missing ? err(missing) : ok(resolved);
}
