// The recipe's JSON Schema (schemas/recipe.schema.json, the contract) compiled with ajv.
// Compiled once, lazily; its verdict types a matching value as RawRecipe (raw.ts). Messages
// are made in validate.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { RawRecipe } from './raw.js';

/** Absolute path of schemas/recipe.schema.json (same depth from src/ and dist/). */
export const RECIPE_SCHEMA_PATH = fileURLToPath(
  new URL('../../schemas/recipe.schema.json', import.meta.url),
);

/** The schema document, parsed. */
export function readRecipeSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(RECIPE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

let compiled: ValidateFunction<RawRecipe> | undefined;

function recipeValidator(): ValidateFunction<RawRecipe> {
  if (!compiled) {
    const ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      allowUnionTypes: true,
      verbose: true,
      // Only a value's own members count: what the schema checks is what the rules
      // and normalize.ts read (parse.ts makes mappings without a prototype, too).
      ownProperties: true,
    });
    // ajv-formats is CommonJS: its default export arrives wrapped under `default`.
    const addFormats = (addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default;
    addFormats(ajv);
    // Understood by editors (vscode-json-languageservice) and by our message builder.
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    // RawRecipe mirrors the schema by hand; test/unit/recipe/raw-schema.test.ts keeps the two
    // in step (every schema property is a RawRecipe member and the other way round).
    compiled = ajv.compile<RawRecipe>(readRecipeSchema());
  }
  return compiled;
}

/** The schema's verdict on a value: typed as RawRecipe when it matches, else every error. */
export type SchemaVerdict =
  | { readonly valid: true; readonly recipe: RawRecipe }
  | { readonly valid: false; readonly errors: readonly ErrorObject[] };

/**
 * Validates `value` against the recipe schema with every error collected (`allErrors`).
 * A matching value comes back as RawRecipe through ajv's own type guard, not a cast.
 * Errors carry `parentSchema`, used to phrase messages.
 */
export function checkAgainstSchema(value: unknown): SchemaVerdict {
  const validate = recipeValidator();
  if (validate(value)) return { valid: true, recipe: value };
  return { valid: false, errors: validate.errors ?? [] };
}

/** The schema errors of `value` (none when it matches); see checkAgainstSchema. */
export function validateAgainstSchema(value: unknown): readonly ErrorObject[] {
  const verdict = checkAgainstSchema(value);
  return verdict.valid ? [] : verdict.errors;
}
