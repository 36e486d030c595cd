// The recipe's JSON Schema (schemas/recipe.schema.json, the contract) compiled with ajv.
// Compiled once, lazily; validation itself is in validate.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** Absolute path of schemas/recipe.schema.json (same depth from src/ and dist/). */
export const RECIPE_SCHEMA_PATH = fileURLToPath(
  new URL('../../schemas/recipe.schema.json', import.meta.url),
);

/** The schema document, parsed. */
export function readRecipeSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(RECIPE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

let compiled: ValidateFunction | undefined;

/**
 * Validates `value` against the recipe schema with every error collected
 * (`allErrors`). Errors carry `parentSchema`, used to phrase messages.
 */
export function validateAgainstSchema(value: unknown): readonly ErrorObject[] {
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
    compiled = ajv.compile(readRecipeSchema());
  }
  if (compiled(value)) return [];
  return compiled.errors ?? [];
}
