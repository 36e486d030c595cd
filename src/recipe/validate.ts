// Schema validation of a parsed recipe: ajv errors turned into Diagnostics that say
// what was expected and what was found, at the exact key or value.
import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../core/diagnostic.js';
import { formatPath, type ParsedRecipe, type ValuePath } from './parse.js';
import type { PrunedRecipe, RawRecipe } from './raw.js';
import { checkAgainstSchema } from './schema.js';
import { closest } from './suggest.js';

/** Paths whose values are secret: messages never quote them. */
const SECRET_PATHS = [/^publish\.credentials\./];

export interface SchemaOutcome {
  readonly diagnostics: readonly Diagnostic[];
  /** The value with every invalid part removed, for the rules (see pruneInvalid). */
  readonly pruned: PrunedRecipe;
  /** The value itself, typed by the schema, when it matches the schema in full. */
  readonly recipe?: RawRecipe;
}

/**
 * Validates a parsed recipe against the schema; every problem is reported, except at
 * values whose placeholders already failed (one message per mistake).
 */
export function validateSchema(recipe: ParsedRecipe): SchemaOutcome {
  const verdict = checkAgainstSchema(recipe.value);
  const allErrors = verdict.valid ? [] : verdict.errors;
  const errors = allErrors.filter(
    (e) => !recipe.brokenPaths.has(formatPath(toValuePath(recipe.value, e.instancePath))),
  );
  const byPath = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const list = byPath.get(error.instancePath) ?? [];
    list.push(error);
    byPath.set(error.instancePath, list);
  }
  const diagnostics: Diagnostic[] = [];
  for (const [instancePath, list] of byPath) {
    // A value of the wrong type makes its other complaints noise: keep the type error.
    const typeErrors = list.filter((e) => e.keyword === 'type');
    const kept = typeErrors.length > 0 ? typeErrors.slice(0, 1) : list;
    for (const error of kept) {
      const diagnostic = toDiagnostic(recipe, toValuePath(recipe.value, instancePath), error);
      if (diagnostic) diagnostics.push(diagnostic);
    }
  }
  return {
    diagnostics,
    pruned: pruneInvalid(recipe.value, allErrors, recipe.brokenPaths),
    ...(verdict.valid ? { recipe: verdict.recipe } : {}),
  };
}

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

function toValuePath(root: unknown, instancePath: string): ValuePath {
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

function toDiagnostic(
  recipe: ParsedRecipe,
  path: ValuePath,
  error: ErrorObject,
): Diagnostic | undefined {
  const where = formatPath(path);
  const subject = where === '' ? 'the recipe' : `\`${where}\``;
  const isSecret = SECRET_PATHS.some((re) => re.test(where));
  const got = (value: unknown): string =>
    isSecret ? 'a value (not shown: secret)' : describeValue(value);
  const parent = error.parentSchema;
  const expectedText =
    typeof parent?.patternErrorMessage === 'string' ? parent.patternErrorMessage : undefined;
  const at = (
    message: string,
    part: 'key' | 'value' = 'value',
    at: ValuePath = path,
  ): Diagnostic => ({
    severity: 'error',
    message,
    location: recipe.sourceMap.locate(at, { part }),
    path: formatPath(at),
  });
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const description = describeProperty(parent, missing);
      return at(
        `${subject}: missing required key \`${missing}\`${description ? ` (${description})` : ''}`,
        'key',
      );
    }
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys(
        (parent?.properties as Record<string, unknown> | undefined) ?? {},
      );
      const suggestion = closest(extra, allowed);
      const hint = suggestion
        ? `; did you mean \`${suggestion}\`?`
        : allowed.length > 0
          ? `; expected one of: ${allowed.join(', ')}`
          : '';
      return at(`${subject}: unknown key \`${extra}\`${hint}`, 'key', [...path, extra]);
    }
    case 'type': {
      const types = Array.isArray(params.type) ? (params.type as string[]) : [String(params.type)];
      const expected = expectedText ?? joinOr(types.map(describeType));
      return at(`${subject}: expected ${expected}, got ${got(error.data)}`);
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      const suggestion = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      return at(
        `${subject}: expected one of ${allowed.join(', ')}, got ${got(error.data)}${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
      );
    }
    case 'pattern': {
      if (error.propertyName !== undefined) {
        const name = error.propertyName;
        return at(
          `${subject}: key \`${name}\` is not allowed here: expected ${expectedText ?? `a key matching ${String(params.pattern)}`}`,
          'key',
          [...path, name],
        );
      }
      return at(
        `${subject}: expected ${expectedText ?? `text matching ${String(params.pattern)}`}, got ${got(error.data)}`,
      );
    }
    case 'propertyNames':
      return undefined; // reported through its nested `pattern` error, at the key itself
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const word = error.keyword.includes('inimum') ? 'at least' : 'at most';
      return at(
        `${subject}: expected a number ${word} ${String(params.limit)}, got ${got(error.data)}`,
      );
    }
    case 'minLength':
      return at(
        Number(params.limit) === 1
          ? `${subject}: must not be empty`
          : `${subject}: expected at least ${String(params.limit)} characters, got ${got(error.data)}`,
      );
    case 'maxLength':
      return at(
        `${subject}: expected at most ${String(params.limit)} characters, got ${String((error.data as string).length)}`,
      );
    case 'minItems':
      return at(`${subject}: expected at least ${String(params.limit)} item(s), got none`);
    case 'maxItems':
      return at(`${subject}: expected at most ${String(params.limit)} items`);
    case 'uniqueItems': {
      const index = Number(params.i);
      const first = Number(params.j);
      const list = error.data as unknown[];
      return {
        ...at(
          `${subject}: ${got(list[index])} is listed twice (items ${first} and ${index})`,
          'value',
          [...path, index],
        ),
        related: [
          { message: 'first listed here', location: recipe.sourceMap.locate([...path, first]) },
        ],
      };
    }
    case 'format':
      return at(`${subject}: expected ${String(params.format)}, got ${got(error.data)}`);
    default:
      return at(`${subject}: ${error.message ?? 'is not valid'}`);
  }
}

/** "a mapping", "a list", "'text'", "42", "true", "nothing" — how a found value is named. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${short.replace(/\n/g, '\\n')}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function describeType(type: string): string {
  switch (type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping (key: value)';
    case 'null':
      return 'nothing';
    default:
      return type;
  }
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}

function describeProperty(
  parent: Record<string, unknown> | undefined,
  name: string,
): string | undefined {
  const properties = parent?.properties as Record<string, { description?: unknown }> | undefined;
  const description = properties?.[name]?.description;
  if (typeof description !== 'string') return undefined;
  const sentence = description.split(/[.:(]/)[0] ?? description;
  return sentence.trim();
}
