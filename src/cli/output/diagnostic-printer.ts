// Prints Diagnostics as `file:line:col: severity: message`, the source line, and a
// caret underline (STYLE.md §4). The only place recipe problems become text.
import type { Diagnostic } from '../../core/diagnostic.js';

export interface PrintOptions {
  /** Source text per file name, to show the offending line. */
  readonly sources: ReadonlyMap<string, string>;
  readonly color: boolean;
}

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const BOLD = '\u001b[1m';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/** The full text for a list of diagnostics (already sorted), ending with a newline. */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  options: PrintOptions,
): string {
  return diagnostics.map((d) => formatDiagnostic(d, options)).join('');
}

/** One diagnostic: header line, source excerpt with underline, related places. */
export function formatDiagnostic(diagnostic: Diagnostic, options: PrintOptions): string {
  const paint = (code: string, text: string): string =>
    options.color ? `${code}${text}${RESET}` : text;
  const { file, range } = diagnostic.location;
  const severity = paint(
    diagnostic.severity === 'error' ? RED + BOLD : YELLOW + BOLD,
    diagnostic.severity,
  );
  let out = `${paint(BOLD, `${file}:${range.start.line}:${range.start.column}`)}: ${severity}: ${diagnostic.message}\n`;
  out += excerpt(options.sources.get(file), range.start.line, range.start.column, range.end, paint);
  for (const related of diagnostic.related ?? []) {
    const r = related.location.range.start;
    out += `  ${paint(DIM, `${related.location.file}:${r.line}:${r.column}`)}: note: ${related.message}\n`;
  }
  return out;
}

/** Source lines longer than this are shown as a window around the column. */
const EXCERPT_WIDTH = 160;

// The last source split into lines: one split per recipe, not one per diagnostic.
let split: { readonly source: string; readonly lines: readonly string[] } | undefined;

function excerpt(
  source: string | undefined,
  line: number,
  column: number,
  end: { line: number; column: number },
  paint: (code: string, text: string) => string,
): string {
  if (source === undefined) return '';
  if (split?.source !== source) split = { source, lines: source.split(/\r?\n/) };
  const full = split.lines[line - 1];
  if (full === undefined) return '';
  // A huge line (a 1 MiB list on one line) is cut to a window, marked with '…' at the cuts.
  const from = full.length > EXCERPT_WIDTH ? Math.max(0, column - 1 - EXCERPT_WIDTH / 2) : 0;
  const to = Math.min(full.length, from + EXCERPT_WIDTH);
  const head = from > 0 ? '…' : '';
  const text = `${head}${full.slice(from, to)}${to < full.length ? '…' : ''}`;
  const col = column - from + head.length;
  const gutter = String(line).length;
  const width =
    end.line === line ? Math.max(1, end.column - column) : Math.max(1, text.length - col + 1);
  const underline =
    ' '.repeat(Math.max(0, col - 1)) +
    '^'.repeat(Math.min(width, Math.max(1, text.length - col + 1)));
  return `  ${String(line)} | ${text}\n  ${' '.repeat(gutter)} | ${paint(RED, underline)}\n`;
}
