// What a cross-field check receives: the context it may look at and the report function
// it files diagnostics through, and the input-file check more than one part needs. Shared
// by rules.ts and its part files (rules-sizes.ts, rules-publish.ts, rules-store.ts).
import { resolve } from 'node:path';
import type { Diagnostic, Severity } from '../core/diagnostic.js';
import type { ParsedRecipe } from './parse.js';
import type { ValuePath } from './source-map.js';
import type { PrunedRecipe } from './raw.js';

/**
 * What a check may look at besides the recipe. `strictInputs` is true for plan and
 * apply: an input that depends on this machine (an ISO, a certificate, an eucarc
 * variable) is then an error; `validate` only warns, so recipes can be checked in CI
 * without the inputs.
 */
export interface RuleContext {
  readonly parsed: ParsedRecipe;
  /** The recipe with values that failed the schema removed (so rules see only sound data). */
  readonly raw: PrunedRecipe;
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly strictInputs: boolean;
  readonly fileExists: (path: string) => boolean;
}

export type Report = (
  severity: Severity,
  path: ValuePath,
  message: string,
  extra?: { part?: 'key' | 'value'; related?: Diagnostic['related'] },
) => void;

/** A machine-specific input (ISO, certificate): missing is an error only when strict. */
export function checkInputFile(
  context: RuleContext,
  report: Report,
  path: ValuePath,
  written: string,
  what: string,
): void {
  const absolute = resolve(context.dir, written);
  if (!context.fileExists(absolute)) {
    report(
      context.strictInputs ? 'error' : 'warning',
      path,
      `file not found: '${written}' (${what}; looked for ${absolute})`,
    );
  }
}
