// `emi-recipe validate`: check recipes (syntax, schema, rules) and print every problem.
import { loadRecipe } from '../../recipe/load-recipe.js';
import { defaultGraphInput } from '../../plan/default-graph.js';
import { buildGraph } from '../../plan/graph.js';
import type { Diagnostic } from '../../core/diagnostic.js';
import { formatDiagnostics } from '../output/diagnostic-printer.js';
import type { Terminal } from '../output/terminal.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export interface ValidateOptions {
  readonly json: boolean;
}

/** JSON shape of one diagnostic in `validate --json` (documented in docs/cli.md). */
export interface DiagnosticJson {
  readonly severity: Diagnostic['severity'];
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly path?: string;
}

export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  return {
    severity: d.severity,
    message: d.message,
    file: d.location.file,
    line: d.location.range.start.line,
    column: d.location.range.start.column,
    endLine: d.location.range.end.line,
    endColumn: d.location.range.end.column,
    ...(d.path !== undefined ? { path: d.path } : {}),
  };
}

/** Validates each file; exit 0 when all are valid (warnings allowed), else 2. */
export async function runValidate(
  files: readonly string[],
  options: ValidateOptions,
  terminal: Terminal,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ExitCode> {
  let failed = false;
  const results: unknown[] = [];
  for (const file of files) {
    const loaded = await loadRecipe(file, { env, strictInputs: false });
    if (!loaded.ok) {
      failed = true;
      const message = `cannot read recipe '${file}': ${loaded.error.code === 'ENOENT' ? 'no such file' : loaded.error.code}`;
      if (options.json) results.push({ file, valid: false, error: message, diagnostics: [] });
      else terminal.err(`error: ${message}\n`);
      continue;
    }
    const { text, recipe } = loaded.value;
    // A valid recipe must also give a sound step graph (${steps.…} placeholders can add cycles).
    const graphProblems = recipe ? buildGraph(defaultGraphInput(recipe)).diagnostics : [];
    const diagnostics = [...loaded.value.diagnostics, ...graphProblems];
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.length - errors;
    if (errors > 0) failed = true;
    if (options.json) {
      results.push({
        file,
        valid: errors === 0,
        errors,
        warnings,
        diagnostics: diagnostics.map(diagnosticToJson),
      });
      continue;
    }
    terminal.err(
      formatDiagnostics(diagnostics, { sources: new Map([[file, text]]), color: terminal.color }),
    );
    if (errors > 0) {
      terminal.err(
        `${file}: ${plural(errors, 'error')}${warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''}; fix them and run validate again\n`,
      );
    } else {
      terminal.out(`${file}: valid${warnings > 0 ? ` (${plural(warnings, 'warning')})` : ''}\n`);
    }
  }
  if (options.json)
    terminal.out(`${JSON.stringify({ version: 1, valid: !failed, results }, null, 2)}\n`);
  return failed ? EXIT.usage : EXIT.ok;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
