// The recipe without the parts that failed the schema, for the cross-field rules: one
// mistake gives one message, not a cascade. Pure; used by validate.ts.
import type { ErrorObject } from 'ajv';
import { formatPath, type ValuePath } from './source-map.js';
import type { PrunedRecipe } from './raw.js';

/** Errors that leave the value's shape sound: the rules may still look at it. */
const SHAPE_SAFE = new Set([
  'required',
  'uniqueItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
]);

/**
 * A deep copy of `value` without the parts that failed the schema: unknown keys and
 * values of a wrong type, pattern or enum are deleted (list items become holes, so
 * indexes stay right). The cross-field rules then run on sound data only, and one
 * mistake does not produce a cascade of messages.
 */
export function pruneInvalid(
  value: unknown,
  errors: readonly ErrorObject[],
  brokenPaths: ReadonlySet<string>,
): PrunedRecipe {
  const copy = copyValue(value);
  if (brokenPaths.size > 0) {
    // Values whose placeholders failed were already reported: the rules must not see them.
    const visit = (node: unknown, path: (string | number)[]): void => {
      if (node === null || typeof node !== 'object') return;
      for (const key of Object.keys(node)) {
        const part = Array.isArray(node) ? Number(key) : key;
        const child = [...path, part];
        if (brokenPaths.has(formatPath(child))) removeAt(copy, child);
        else visit((node as Record<string, unknown>)[key], child);
      }
    };
    visit(copy, []);
  }
  for (const error of errors) {
    if (SHAPE_SAFE.has(error.keyword)) continue;
    const path = toValuePath(copy, error.instancePath);
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'additionalProperties') {
      removeAt(copy, [...path, String(params.additionalProperty)]);
    } else if (error.propertyName !== undefined) {
      removeAt(copy, [...path, error.propertyName]);
    } else if (path.length === 0) {
      return {};
    } else {
      removeAt(copy, path);
    }
  }
  // What is left matches the schema in every member it still has (or is not a mapping at all).
  return copy !== null && typeof copy === 'object' && !Array.isArray(copy) ? copy : {};
}

/**
 * A deep copy that keeps mappings without a prototype, as parse.ts makes them
 * (structuredClone would give them Object.prototype back).
 */
function copyValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyValue);
  if (value === null || typeof value !== 'object') return value;
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, member] of Object.entries(value)) out[key] = copyValue(member);
  return out;
}

function removeAt(root: unknown, path: ValuePath): void {
  let current: unknown = root;
  for (const part of path.slice(0, -1)) {
    if (current === null || typeof current !== 'object') return;
    current = (current as Record<string | number, unknown>)[part];
  }
  const last = path[path.length - 1];
  if (last === undefined || current === null || typeof current !== 'object') return;
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- removing an invalid member by its path is the point
  delete (current as Record<string | number, unknown>)[last];
}

/** The value path an ajv `instancePath` (a JSON pointer) names in `root`. */
export function toValuePath(root: unknown, instancePath: string): ValuePath {
  if (instancePath === '') return [];
  const parts = instancePath
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path: (string | number)[] = [];
  let current: unknown = root;
  for (const part of parts) {
    const key: string | number = Array.isArray(current) ? Number(part) : part;
    path.push(key);
    current =
      current !== null && typeof current === 'object'
        ? (current as Record<string | number, unknown>)[key]
        : undefined;
  }
  return path;
}
