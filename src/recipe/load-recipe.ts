// The one entry point for reading a recipe: parse -> schema -> rules -> model.
// Reports every problem at once, sorted; yields a Recipe only when no error remains.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { compareDiagnostics, hasErrors, type Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';
import { parseRecipeText } from './load.js';
import type { Recipe } from './model.js';
import { normalizeRecipe } from './normalize.js';
import type { RawRecipe } from './raw.js';
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

/** Why a recipe file could not even be read (not a recipe problem: a usage error). */
export interface RecipeReadFailure {
  readonly reason: 'recipe-unreadable';
  readonly file: string;
  readonly code: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Parses and checks recipe text (no file I/O for the recipe itself). */
export function loadRecipeText(file: string, text: string, options: LoadOptions): LoadedRecipe {
  const path = resolve(file);
  const dir = dirname(path);
  const parsed = parseRecipeText(file, text, options.env);
  const diagnostics = [...parsed.diagnostics];
  if (parsed.recipe) {
    const schema = validateSchema(parsed.recipe);
    diagnostics.push(...schema.diagnostics);
    diagnostics.push(
      ...checkRules({
        parsed: parsed.recipe,
        raw: schema.pruned,
        dir,
        env: options.env,
        strictInputs: options.strictInputs,
        fileExists: options.fileExists ?? isFile,
      }),
    );
    if (!hasErrors(diagnostics)) {
      // No error at all: the value is exactly what the schema describes.
      const raw = parsed.recipe.value as RawRecipe;
      const recipe = normalizeRecipe(raw, parsed.recipe, { path, dir, env: options.env });
      return { recipe, diagnostics: diagnostics.sort(compareDiagnostics), text };
    }
  }
  return { diagnostics: diagnostics.sort(compareDiagnostics), text };
}

/** Reads and checks a recipe file. */
export async function loadRecipe(
  file: string,
  options: LoadOptions,
): Promise<Result<LoadedRecipe, RecipeReadFailure>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return err({ reason: 'recipe-unreadable', file, code });
  }
  return ok(loadRecipeText(file, text, options));
}
