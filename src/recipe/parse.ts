// Reading a recipe file: YAML with its limits and syntax errors placed, then converted to
// plain data with env interpolation and a source map from every value back to its line and
// column (yaml-convert.ts, source-map.ts). No schema knowledge here (see validate.ts).
import { LineCounter } from 'yaml';
import type { Diagnostic, Location } from '../core/diagnostic.js';
import { SourceMap, type LocatedStepReference } from './source-map.js';
import { convertDocument } from './yaml-convert.js';
import { MAX_NESTING, MAX_VALUES, parseYaml } from './yaml-limits.js';
import { unclosedConstruct } from './yaml-errors.js';

/** The raw recipe: YAML turned into plain data, env placeholders replaced. Not yet validated. */
export interface ParsedRecipe {
  /** The file name as the user gave it (used in messages). */
  readonly file: string;
  readonly text: string;
  readonly value: unknown;
  readonly sourceMap: SourceMap;
  /** Paths (as formatted by formatPath) whose value came from an env placeholder. */
  readonly envPaths: ReadonlySet<string>;
  /** Paths (as formatted by formatPath) whose placeholders could not be resolved. */
  readonly brokenPaths: ReadonlySet<string>;
  readonly stepRefs: readonly LocatedStepReference[];
}

export interface ParseOutcome {
  /** Present unless the YAML itself is unusable. */
  readonly recipe?: ParsedRecipe;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Parses recipe text. YAML syntax errors (including duplicate keys and several
 * documents in one file) end parsing; placeholder problems are reported and parsing
 * goes on, so that one run shows every problem.
 */
export function parseRecipeText(
  file: string,
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): ParseOutcome {
  const lines = new LineCounter();
  const sourceMap = new SourceMap(file, lines);
  const diagnostics: Diagnostic[] = [];
  const locateOffsets = (start: number, end: number): Location => {
    const a = lines.linePos(start);
    const b = lines.linePos(Math.max(end, start + 1));
    return {
      file,
      range: { start: { line: a.line, column: a.col }, end: { line: b.line, column: b.col } },
    };
  };
  const parsed = parseYaml(text, lines, { uniqueKeys: true, strict: true });
  if (parsed.refused) {
    const at = parsed.refused.offset;
    diagnostics.push({
      severity: 'error',
      message:
        parsed.refused.kind === 'too-deep'
          ? `YAML: mappings and lists nested more than ${String(MAX_NESTING)} levels deep; a recipe needs a handful: flatten it`
          : `YAML: more than ${String(MAX_VALUES)} keys and values (this is the first one over); a recipe needs hundreds: keep data in files next to it`,
      location: locateOffsets(at, at + 1),
    });
    return { diagnostics };
  }
  const doc = parsed.doc;
  for (const error of doc.errors) {
    const open = unclosedConstruct(doc, error);
    diagnostics.push({
      severity: 'error',
      message:
        open === undefined
          ? `YAML syntax: ${yamlMessage(error.message)}`
          : `YAML syntax: this ${open.opener} is never closed (the parser reached ${String(lines.linePos(error.pos[0]).line)}:${String(lines.linePos(error.pos[0]).col)} without finding its end)`,
      location:
        open === undefined
          ? locateOffsets(error.pos[0], error.pos[1])
          : locateOffsets(open.offset, open.offset + 1),
    });
  }
  if (diagnostics.length > 0) return { diagnostics };
  for (const warning of doc.warnings) {
    diagnostics.push({
      severity: 'warning',
      message: `YAML: ${yamlMessage(warning.message)}`,
      location: locateOffsets(warning.pos[0], warning.pos[1]),
    });
  }

  const converted = convertDocument(doc, { text, env, sourceMap, locateOffsets, diagnostics });
  // A refused alias leaves holes everywhere it was used: its one message is enough.
  if (converted.aliasRefused) return { diagnostics };
  const { value, envPaths, brokenPaths, stepRefs } = converted;
  return { recipe: { file, text, value, sourceMap, envPaths, brokenPaths, stepRefs }, diagnostics };
}

/** yaml's messages end with a code-frame excerpt after a colon and blank line; keep the sentence. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').trim();
}
