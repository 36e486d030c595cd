// A parsed YAML document turned into plain recipe data: mappings without a prototype,
// JavaScript-internal keys refused, tags that are not data refused, aliases expanded with
// guards against bombs and loops, env placeholders replaced (interpolate.ts) and step
// references collected; every value's place is recorded in the SourceMap. parse.ts runs it.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parse as parseYamlValue,
  type Alias,
  type Document,
  type Node as YamlNode,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { Diagnostic, Location } from '../core/diagnostic.js';
import { interpolate } from './interpolate.js';
import {
  formatPath,
  type LocatedStepReference,
  type NodeSpan,
  type SourceMap,
  type ValuePath,
} from './source-map.js';
import {
  aliasTargets,
  FORBIDDEN_KEYS,
  keyName,
  MAX_ALIAS_COUNT,
  MAX_ALIAS_VALUES,
} from './yaml-limits.js';

/** What the conversion reads and where it reports. */
export interface ConvertInput {
  readonly text: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly sourceMap: SourceMap;
  /** The place of a range of offsets in the text. */
  readonly locateOffsets: (start: number, end: number) => Location;
  /** Problems are pushed here (and conversion goes on, except after a refused alias). */
  readonly diagnostics: Diagnostic[];
}

export interface Converted {
  readonly value: unknown;
  /** Paths (as formatted by formatPath) whose value came from an env placeholder. */
  readonly envPaths: ReadonlySet<string>;
  /** Paths whose placeholders or tags could not be made into data. */
  readonly brokenPaths: ReadonlySet<string>;
  readonly stepRefs: readonly LocatedStepReference[];
  /** An alias was refused (bomb or loop): the value has holes, its one message says why. */
  readonly aliasRefused: boolean;
}

/** Converts `doc`'s contents. */
export function convertDocument(doc: Document.Parsed, input: ConvertInput): Converted {
  const converter = new Converter(doc, input);
  const value = converter.convert(doc.contents, []);
  return { value, ...converter.results() };
}

type KeySpan = readonly [number, number];

class Converter {
  readonly #input: ConvertInput;
  readonly #targets: ReturnType<typeof aliasTargets>;
  readonly #envPaths = new Set<string>();
  readonly #brokenPaths = new Set<string>();
  readonly #stepRefs: LocatedStepReference[] = [];
  readonly #aliases = { resolved: 0, values: 0, refused: false };
  /** Nodes being converted (an alias to one of them would expand forever). */
  readonly #open = new Set<unknown>();

  constructor(doc: Document.Parsed, input: ConvertInput) {
    this.#input = input;
    this.#targets = aliasTargets(doc);
  }

  results(): Omit<Converted, 'value'> {
    return {
      envPaths: this.#envPaths,
      brokenPaths: this.#brokenPaths,
      stepRefs: this.#stepRefs,
      aliasRefused: this.#aliases.refused,
    };
  }

  convert(node: unknown, path: ValuePath, key?: KeySpan, viaAlias = false): unknown {
    if (this.#aliases.refused) return null;
    if (isAlias(node)) return this.#alias(node, path, key);
    if (viaAlias) {
      this.#aliases.values += 1;
      if (this.#aliases.values > MAX_ALIAS_VALUES)
        return this.#refuseAlias(
          node as YamlNode,
          path,
          `aliases expand to more than ${MAX_ALIAS_VALUES} values (a guard against alias bombs): write the values out, or use fewer aliases`,
        );
    }
    const range = (node as YamlNode | null | undefined)?.range;
    const span: NodeSpan = range
      ? { value: [range[0], range[1]], ...(key ? { key } : {}) }
      : { value: key ?? [0, 1] };
    this.#input.sourceMap.record(path, span);
    if (isMap(node)) return this.#map(node, path, viaAlias);
    if (isSeq(node)) return this.#seq(node, path, viaAlias);
    if (isScalar(node)) return this.#scalar(node, path);
    return null;
  }

  #alias(node: Alias, path: ValuePath, key?: KeySpan): unknown {
    const target = this.#targets.get(node);
    if (!target) return null; // the composer reported the missing anchor
    if (this.#open.has(target))
      return this.#refuseAlias(
        node,
        path,
        `alias *${node.source} refers to a value that contains it`,
      );
    this.#aliases.resolved += 1;
    if (this.#aliases.resolved > MAX_ALIAS_COUNT)
      return this.#refuseAlias(
        node,
        path,
        `more than ${MAX_ALIAS_COUNT} aliases to expand (a guard against alias bombs): write the values out, or use fewer aliases`,
      );
    return this.convert(target, path, key, true);
  }

  #map(node: YAMLMap, path: ValuePath, viaAlias: boolean): Record<string, unknown> {
    // No prototype: a key can only ever be an own property, for the schema and for
    // every reader after it alike.
    const out = Object.create(null) as Record<string, unknown>;
    this.#open.add(node);
    for (const pair of node.items) {
      // An alias as a key (`*k: value`) stands for its anchor's value, as YAML reads it.
      const name = keyName(isAlias(pair.key) ? this.#targets.get(pair.key) : pair.key);
      const keyRange =
        (isScalar(pair.key) || isAlias(pair.key)) && pair.key.range
          ? ([pair.key.range[0], pair.key.range[1]] as const)
          : undefined;
      if (FORBIDDEN_KEYS.has(name)) {
        const where = path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe';
        this.#input.diagnostics.push({
          severity: 'error',
          message: `${where}: key \`${name}\` is not allowed (it names JavaScript object internals, never a recipe setting): remove it`,
          location: keyRange
            ? this.#input.locateOffsets(keyRange[0], keyRange[1])
            : this.#input.sourceMap.locate(path, { part: 'key' }),
          path: formatPath([...path, name]),
        });
        continue;
      }
      out[name] = this.convert(pair.value, [...path, name], keyRange, viaAlias);
    }
    this.#open.delete(node);
    return out;
  }

  #seq(node: YAMLSeq, path: ValuePath, viaAlias: boolean): unknown {
    // !!omap and !!pairs hold pairs, not values: not recipe data.
    if (node.items.some((item) => isPair(item))) return this.#notData(node.tag, path);
    this.#open.add(node);
    const out = node.items.map((item, index) =>
      this.convert(item, [...path, index], undefined, viaAlias),
    );
    this.#open.delete(node);
    return out;
  }

  #scalar(node: Scalar, path: ValuePath): unknown {
    const value: unknown = node.value;
    if (typeof value !== 'string') {
      if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
      // !!binary, !!timestamp…: an object with a prototype (Uint8Array, Date) is not recipe data.
      return this.#notData(node.tag, path);
    }
    const { sourceMap, diagnostics } = this.#input;
    const raw = node.range ? this.#input.text.slice(node.range[0], node.range[1]) : value;
    const result = interpolate(value, this.#input.env);
    const offsetOf = (index: number, length: number): number => {
      const found = raw.indexOf(value.slice(index, index + length));
      return found >= 0 ? found : 0;
    };
    if (result.problems.length > 0) this.#brokenPaths.add(formatPath(path));
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
      const location = sourceMap.locate(path, {
        offset: offsetOf(ref.index, ref.length),
        length: ref.length,
      });
      this.#stepRefs.push({ ...ref, path, location });
    }
    if (!result.usedEnv) return result.value;
    this.#envPaths.add(formatPath(path));
    // A plain scalar that is one placeholder takes the type its value spells, so
    // `cpus: ${env.CPUS:-2}` is the number 2, as if the value had been written there.
    const wholePlaceholder = node.type === 'PLAIN' && /^\$\{env\.[^}]*\}$/.test(value);
    return wholePlaceholder ? typedScalar(result.value) : result.value;
  }

  #refuseAlias(node: YamlNode, path: ValuePath, why: string): null {
    if (!this.#aliases.refused) {
      this.#aliases.refused = true;
      const where = path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe';
      const range = node.range ?? [0, 1];
      this.#input.diagnostics.push({
        severity: 'error',
        message: `${where}: ${why}`,
        location: this.#input.locateOffsets(range[0], range[1]),
        path: formatPath(path),
      });
    }
    return null;
  }

  #notData(tag: string | undefined, path: ValuePath): null {
    // Reported here once: the schema's complaint about the missing value would repeat it.
    this.#brokenPaths.add(formatPath(path));
    const shown = tag?.replace(/^tag:yaml\.org,2002:/, '!!') ?? '(unknown)';
    this.#input.diagnostics.push({
      severity: 'error',
      message: `${path.length > 0 ? `\`${formatPath(path)}\`` : 'the recipe'}: a value tagged ${shown} is not recipe data: write plain text, a number, true/false, a list or a mapping`,
      location: this.#input.sourceMap.locate(path),
      path: formatPath(path),
    });
    return null;
  }
}

/** The placeholder's text read as a YAML scalar (a number, true/false, null), else the text. */
function typedScalar(text: string): unknown {
  try {
    const typed: unknown = parseYamlValue(text);
    if (typed === null || ['number', 'boolean', 'string'].includes(typeof typed)) return typed;
  } catch {
    // Not a YAML scalar: keep the text as it is.
  }
  return text;
}
