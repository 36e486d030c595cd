// ${steps.<id>.<output>} placeholders in step params, filled in from the outputs of the
// steps they name just before a step runs (the graph made those steps its needs). Pure.
import { err, ok, type Result } from '../core/result.js';
import type { JsonValue, MissingOutput } from './step.js';

const REF = /(?<!\$)\$\{steps\.([a-z][a-z0-9-]*)\.([A-Za-z][A-Za-z0-9_]*)\}/g;

/**
 * `params` with every step placeholder replaced by the named output (as text). An
 * output that does not exist is reported with the outputs that do. The result has the
 * type of `params`: it is a deep copy in which strings, and only strings, are replaced
 * by strings.
 */
export function resolveStepRefs<P>(
  params: P,
  outputs: (step: string) => Readonly<Record<string, JsonValue>> | undefined,
): Result<P, MissingOutput> {
  let missing: MissingOutput | undefined;
  const fill = (text: string): string =>
    text.replace(REF, (whole, step: string, output: string) => {
      const values = outputs(step);
      // An own output only: `${steps.x.constructor}` must not read Object.prototype.
      const found = values && Object.hasOwn(values, output) ? values[output] : undefined;
      if (found === undefined) {
        missing ??= { step, output, available: Object.keys(values ?? {}) };
        return whole;
      }
      return typeof found === 'string' ? found : JSON.stringify(found);
    });
  const fillIn = (node: object): void => {
    for (const key of Object.keys(node)) {
      const value: unknown = Reflect.get(node, key);
      if (typeof value === 'string') Reflect.set(node, key, fill(value));
      else if (typeof value === 'object' && value !== null) fillIn(value);
    }
  };
  // The box lets a bare string (or a copy of the whole params) be filled in the same way.
  const box = { params: structuredClone(params) };
  fillIn(box);
  return missing ? err(missing) : ok(box.params);
}
