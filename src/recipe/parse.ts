// Reading a recipe file: YAML with positions, env interpolation, and a source map from
// every value back to its line and column. No schema knowledge here (see validate.ts).
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parse as parseYamlValue,
  type Node as YamlNode,
} from 'yaml';
import type { Diagnostic, Location, SourceRange } from '../core/diagnostic.js';
import { interpolate, type StepReference } from './interpolate.js';
import {
  aliasTargets,
  FORBIDDEN_KEYS,
  keyName,
  MAX_ALIAS_COUNT,
  MAX_ALIAS_VALUES,
  MAX_NESTING,
  MAX_VALUES,
  parseYaml,
} from './yaml-limits.js';
import { unclosedConstruct } from './yaml-errors.js';

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

interface NodeSpan {
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

  const envPaths = new Set<string>();
  const brokenPaths = new Set<string>();
  const stepRefs: LocatedStepReference[] = [];
  const targets = aliasTargets(doc);
  const aliases = { resolved: 0, values: 0, refused: false };
  // Nodes being converted (an alias to one of them would expand forever).
  const open = new Set<unknown>();
  const refuseAlias = (node: YamlNode, path: ValuePath, why: string): null => {
    if (!aliases.refused) {
      aliases.refused = true;
      const where = path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe';
      const range = node.range ?? [0, 1];
      diagnostics.push({
        severity: 'error',
        message: `${where}: ${why}`,
        location: locateOffsets(range[0], range[1]),
        path: formatPath(path),
      });
    }
    return null;
  };
  const notData = (tag: string | undefined, path: ValuePath): null => {
    // Reported here once: the schema's complaint about the missing value would repeat it.
    brokenPaths.add(formatPath(path));
    const shown = tag?.replace(/^tag:yaml\.org,2002:/, '!!') ?? '(unknown)';
    diagnostics.push({
      severity: 'error',
      message: `${path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe'}: a value tagged ${shown} is not recipe data: write plain text, a number, true/false, a list or a mapping`,
      location: sourceMap.locate(path),
      path: formatPath(path),
    });
    return null;
  };
  const convert = (
    node: unknown,
    path: ValuePath,
    key?: readonly [number, number],
    viaAlias = false,
  ): unknown => {
    if (aliases.refused) return null;
    if (isAlias(node)) {
      const target = targets.get(node);
      if (!target) return null; // the composer reported the missing anchor
      if (open.has(target))
        return refuseAlias(node, path, `alias *${node.source} refers to a value that contains it`);
      aliases.resolved += 1;
      if (aliases.resolved > MAX_ALIAS_COUNT)
        return refuseAlias(
          node,
          path,
          `more than ${MAX_ALIAS_COUNT} aliases to expand (a guard against alias bombs): write the values out, or use fewer aliases`,
        );
      return convert(target, path, key, true);
    }
    if (viaAlias) {
      aliases.values += 1;
      if (aliases.values > MAX_ALIAS_VALUES)
        return refuseAlias(
          node as YamlNode,
          path,
          `aliases expand to more than ${MAX_ALIAS_VALUES} values (a guard against alias bombs): write the values out, or use fewer aliases`,
        );
    }
    const yamlNode = node as YamlNode | null | undefined;
    const range = yamlNode?.range;
    const span: NodeSpan = range
      ? { value: [range[0], range[1]], ...(key ? { key } : {}) }
      : { value: key ?? [0, 1] };
    sourceMap.record(path, span);
    if (isMap(node)) {
      // No prototype: a key can only ever be an own property, for the schema and for
      // every reader after it alike.
      const out = Object.create(null) as Record<string, unknown>;
      open.add(node);
      for (const pair of node.items) {
        // An alias as a key (`*k: value`) stands for its anchor's value, as YAML reads it.
        const name = keyName(isAlias(pair.key) ? targets.get(pair.key) : pair.key);
        const keyRange =
          (isScalar(pair.key) || isAlias(pair.key)) && pair.key.range
            ? ([pair.key.range[0], pair.key.range[1]] as const)
            : undefined;
        if (FORBIDDEN_KEYS.has(name)) {
          const where = path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe';
          diagnostics.push({
            severity: 'error',
            message: `${where}: key \`${name}\` is not allowed (it names JavaScript object internals, never a recipe setting): remove it`,
            location: keyRange
              ? locateOffsets(keyRange[0], keyRange[1])
              : sourceMap.locate(path, { part: 'key' }),
            path: formatPath([...path, name]),
          });
          continue;
        }
        out[name] = convert(pair.value, [...path, name], keyRange, viaAlias);
      }
      open.delete(node);
      return out;
    }
    if (isSeq(node)) {
      // !!omap and !!pairs hold pairs, not values: not recipe data.
      if (node.items.some((item) => isPair(item))) return notData(node.tag, path);
      open.add(node);
      const out = node.items.map((item, index) =>
        convert(item, [...path, index], undefined, viaAlias),
      );
      open.delete(node);
      return out;
    }
    if (isScalar(node)) {
      if (typeof node.value !== 'string') {
        const value: unknown = node.value;
        if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
        // !!binary, !!timestamp…: an object with a prototype (Uint8Array, Date) is not recipe data.
        return notData(node.tag, path);
      }
      const raw = range ? text.slice(range[0], range[1]) : node.value;
      const result = interpolate(node.value, env);
      const offsetOf = (index: number, length: number): number => {
        const piece = node.value as string;
        const found = raw.indexOf(piece.slice(index, index + length));
        return found >= 0 ? found : 0;
      };
      if (result.problems.length > 0) brokenPaths.add(formatPath(path));
      for (const problem of result.problems) {
        diagnostics.push({
          severity: 'error',
          message: `\`${formatPath(path)}\`: ${problem.message}`,
          location: sourceMap.locate(path, {
            offset: offsetOf(problem.index, problem.length),
            length: problem.length,
          }),
          path: formatPath(path),
        });
      }
      for (const ref of result.stepRefs) {
        const located = sourceMap.locate(path, {
          offset: offsetOf(ref.index, ref.length),
          length: ref.length,
        });
        stepRefs.push({ ...ref, path, location: located });
      }
      if (!result.usedEnv) return result.value;
      envPaths.add(formatPath(path));
      // A plain scalar that is one placeholder takes the type its value spells, so
      // `cpus: ${env.CPUS:-2}` is the number 2, as if the value had been written there.
      const wholePlaceholder = node.type === 'PLAIN' && /^\$\{env\.[^}]*\}$/.test(node.value);
      if (wholePlaceholder) {
        try {
          const typed: unknown = parseYamlValue(result.value);
          if (typed === null || ['number', 'boolean', 'string'].includes(typeof typed))
            return typed;
        } catch {
          // Not a YAML scalar: keep the text as it is.
        }
      }
      return result.value;
    }
    return null;
  };
  const value = convert(doc.contents, []);
  // A refused alias leaves holes everywhere it was used: its one message is enough.
  if (aliases.refused) return { diagnostics };
  return { recipe: { file, text, value, sourceMap, envPaths, brokenPaths, stepRefs }, diagnostics };
}

/** yaml's messages end with a code-frame excerpt after a colon and blank line; keep the sentence. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').trim();
}
