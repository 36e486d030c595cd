// Schema validation of a parsed recipe: ajv errors turned into Diagnostics that say
// what was expected and what was found, at the exact key or value.
import type { ErrorObject } from 'ajv';
import type { Diagnostic } from '../core/diagnostic.js';
import type { ParsedRecipe } from './parse.js';
import { formatPath, type ValuePath } from './source-map.js';
import { pruneInvalid, toValuePath } from './prune.js';
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
