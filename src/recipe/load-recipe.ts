// The one entry point for reading a recipe: parse -> schema -> rules -> model.
// Reports every problem at once, sorted; yields a Recipe only when no error remains.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compareDiagnostics, hasErrors, type Diagnostic } from '../core/diagnostic.js';
import { ok, type Result } from '../core/result.js';
import { parseRecipeText } from './parse.js';
import type { Recipe } from './model.js';
import { normalizeRecipe } from './normalize.js';
import {
  decodeRecipeBytes,
  readRecipeBytes,
  tooLargeDiagnostic,
  type RecipeReadFailure,
} from './recipe-bytes.js';
import { checkRules } from './rules.js';
import { validateSchema } from './validate.js';

export interface LoadOptions {
  /** Environment for `${env.…}` and the eucarc defaults. Pass a copy, not process.env, in tests. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** See RuleContext.strictInputs: true for plan/apply, false for validate. */
  readonly strictInputs: boolean;
  /** Overrides file existence checks (tests). Default: the real file system. */
  readonly fileExists?: (path: string) => boolean;
}

/** A loaded recipe, or why not; `diagnostics` always holds warnings too, sorted. */
export interface LoadedRecipe {
  readonly recipe?: Recipe;
  readonly diagnostics: readonly Diagnostic[];
  /** The recipe's text, for printing source lines under diagnostics. */
  readonly text: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * At most this many diagnostics are kept per recipe (the first ones, sorted), plus one
 * that counts the rest: a generated recipe with 100 000 bad values gets a readable answer.
 */
export const MAX_DIAGNOSTICS = 100;

/** Parses and checks recipe text (no file I/O for the recipe itself). */
export function loadRecipeText(file: string, text: string, options: LoadOptions): LoadedRecipe {
  const path = resolve(file);
  const dir = dirname(path);
  const parsed = parseRecipeText(file, text, options.env);
  // concat, not push(...list): a spread of 100 000 arguments overflows the stack.
  let diagnostics: Diagnostic[] = [...parsed.diagnostics];
  if (parsed.recipe) {
    const schema = validateSchema(parsed.recipe);
    const rules = checkRules({
      parsed: parsed.recipe,
      raw: schema.pruned,
      dir,
      env: options.env,
      strictInputs: options.strictInputs,
      fileExists: options.fileExists ?? isFile,
    });
    diagnostics = diagnostics.concat(schema.diagnostics, rules.diagnostics);
    if (!hasErrors(diagnostics)) {
      // No error anywhere: the schema typed the value and the rules parsed every size.
      if (!schema.recipe || !rules.sizes)
        throw new Error(`${file}: no error reported, yet the recipe is not fully checked (a bug)`);
      const recipe = normalizeRecipe(
        { raw: schema.recipe, sizes: rules.sizes, parsed: parsed.recipe },
        { path, dir, env: options.env },
      );
      return { recipe, diagnostics: capped(diagnostics), text };
    }
  }
  return { diagnostics: capped(diagnostics), text };
}

/** Sorted, and cut to MAX_DIAGNOSTICS plus one that says how many more there are. */
function capped(diagnostics: Diagnostic[]): Diagnostic[] {
  const sorted = diagnostics.sort(compareDiagnostics);
  const rest = sorted.slice(MAX_DIAGNOSTICS);
  const next = rest[0];
  if (next === undefined) return sorted;
  const errors = rest.filter((d) => d.severity === 'error').length;
  return [
    ...sorted.slice(0, MAX_DIAGNOSTICS),
    {
      severity: errors > 0 ? 'error' : 'warning',
      message: `${String(rest.length)} more problems from here on are not shown (${String(errors)} errors): fix the ones above and run again`,
      location: next.location,
    },
  ];
}

/** Checks a recipe given as bytes: strict UTF-8 first, then as loadRecipeText. */
export function loadRecipeBytes(
  file: string,
  bytes: Uint8Array,
  options: LoadOptions,
): LoadedRecipe {
  const decoded = decodeRecipeBytes(file, bytes);
  if (decoded.diagnostics.length > 0)
    return { diagnostics: decoded.diagnostics, text: decoded.text };
  return loadRecipeText(file, decoded.text, options);
}

/**
 * Reads and checks a recipe file. A file over MAX_RECIPE_BYTES is a recipe error
 * (exit 2 with a message), found without reading more than the limit.
 */
export async function loadRecipe(
  file: string,
  options: LoadOptions,
): Promise<Result<LoadedRecipe, RecipeReadFailure>> {
  const read = await readRecipeBytes(file);
  if (!read.ok) return read;
  if (read.value.tooLarge)
    return ok({ diagnostics: [tooLargeDiagnostic(file, read.value.size)], text: '' });
  return ok(loadRecipeBytes(file, read.value.bytes, options));
}

export type { RecipeReadFailure };
