// Diagnostics: a problem in a user's file, with its exact place. Data only; printing
// lives in src/cli/output/diagnostic-printer.ts.

/** 1-based line and column, as editors show them. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A span in a file; `end` is exclusive and on the same or a later line. */
export interface SourceRange {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

/** Where a problem is: the file as the user named it, and the span in it. */
export interface Location {
  readonly file: string;
  readonly range: SourceRange;
}

export type Severity = 'error' | 'warning';

/**
 * One problem with a recipe (or another user file). `message` says what was
 * expected and what was found; `path` is the dotted recipe path (`disk.size`)
 * when the problem belongs to a value.
 */
export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  readonly location: Location;
  readonly path?: string;
  readonly related?: readonly { readonly message: string; readonly location: Location }[];
}

/** Orders diagnostics by file, line, column, then message, so output is stable. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.location.file;
  const fb = b.location.file;
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = a.location.range.start;
  const lb = b.location.range.start;
  if (la.line !== lb.line) return la.line - lb.line;
  if (la.column !== lb.column) return la.column - lb.column;
  if (a.message === b.message) return 0;
  return a.message < b.message ? -1 : 1;
}

/** True when any diagnostic is an error (warnings alone do not stop a run). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
