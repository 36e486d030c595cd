// Where each value of a recipe is in its file: paths into the recipe value (`users[1].name`)
// mapped to line and column ranges, falling back to the nearest existing ancestor so that
// every message gets a place. Filled while the YAML is converted (yaml-convert.ts).
import type { LineCounter } from 'yaml';
import type { Location, SourceRange } from '../core/diagnostic.js';
import type { StepReference } from './interpolate.js';

/** A path into the recipe value: keys and list indexes, outermost first. */
export type ValuePath = readonly (string | number)[];

/** Renders a path the way messages show it: `customize.users[1].name`. */
export function formatPath(path: ValuePath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

function pointer(path: ValuePath): string {
  return path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export interface NodeSpan {
  readonly value: readonly [number, number];
  readonly key?: readonly [number, number];
}

/**
 * Maps recipe paths to places in the file. Paths that do not exist (a missing key)
 * fall back to their nearest existing ancestor, so every problem gets a place.
 */
export class SourceMap {
  readonly #file: string;
  readonly #lines: LineCounter;
  readonly #spans = new Map<string, NodeSpan>();

  constructor(file: string, lines: LineCounter) {
    this.#file = file;
    this.#lines = lines;
  }

  /** Records where the value (and its key, for a mapping member) at `path` is. */
  record(path: ValuePath, span: NodeSpan): void {
    this.#spans.set(pointer(path), span);
  }

  /** True when the file holds a value at exactly `path`. */
  has(path: ValuePath): boolean {
    return this.#spans.has(pointer(path));
  }

  /**
   * The place of the value at `path` (or of its key with `part: 'key'`, falling back
   * to the value). `offset`/`length` narrow it to a piece of a scalar's source text.
   */
  locate(
    path: ValuePath,
    options: { part?: 'key' | 'value'; offset?: number; length?: number } = {},
  ): Location {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const span = this.#spans.get(pointer(path.slice(0, depth)));
      if (!span) continue;
      const exact = depth === path.length;
      const key = options.part === 'key' || !exact ? span.key : undefined;
      const usesKey = key !== undefined;
      let [start, end] = key ?? span.value;
      if (exact && options.offset !== undefined && !usesKey) {
        start += options.offset;
        end = start + Math.max(1, options.length ?? 1);
      }
      return { file: this.#file, range: this.#range(start, end) };
    }
    return { file: this.#file, range: this.#range(0, 1) };
  }

  #range(start: number, end: number): SourceRange {
    const a = this.#lines.linePos(start);
    const b = this.#lines.linePos(Math.max(end, start + 1));
    return { start: { line: a.line, column: a.col }, end: { line: b.line, column: b.col } };
  }
}

/** A `${steps.…}` placeholder found in the recipe, with where it is. */
export interface LocatedStepReference extends StepReference {
  readonly path: ValuePath;
  readonly location: Location;
}
