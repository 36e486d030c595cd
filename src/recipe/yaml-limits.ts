// YAML parsing with limits for hostile input: nesting depth is checked on the token
// tree before the (recursive) composer sees it, and aliases are resolved once, in
// document order, so parse.ts can bound what they expand to. No recipe knowledge here.
import {
  Composer,
  CST,
  isAlias,
  Lexer,
  isScalar,
  LineCounter,
  Parser,
  visit,
  YAMLParseError,
  type Alias,
  type Document,
  type Node as YamlNode,
} from 'yaml';

/** Deepest nesting of mappings and lists accepted (a recipe needs 5). */
export const MAX_NESTING = 50;

/**
 * Keys and values (of any kind) accepted in one recipe, before aliases are expanded.
 * Recipes hold hundreds; this bounds the work of every check after the parser.
 */
export const MAX_VALUES = 10_000;

/**
 * Aliases resolved while reading one recipe, counting those inside expanded aliases
 * (the yaml library's own `maxAliasCount` default, which applies to its toJS only).
 */
export const MAX_ALIAS_COUNT = 100;

/** Values (mappings, lists, scalars) that aliases may add to a recipe in all. */
export const MAX_ALIAS_VALUES = 10_000;

/**
 * Mapping keys that name JavaScript's object machinery: refused everywhere in a
 * recipe, so that no key can reach an object's prototype, whatever reads it later.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Why a document was not composed: too deep, or too many values, from `offset` on. */
export interface ShapeProblem {
  readonly kind: 'too-deep' | 'too-many-values';
  readonly offset: number;
}

/** A parsed YAML document, or why it was refused before composing. */
export type ParsedYaml =
  | { readonly doc: Document.Parsed; readonly refused?: undefined }
  | { readonly doc?: undefined; readonly refused: ShapeProblem };

/**
 * Like yaml's parseDocument (one document; more is an error), but checks the token
 * tree before composing: nesting deeper than MAX_NESTING (the composer recurses per
 * level, and a few thousand `[` overflow the stack: yaml then reports a syntax error,
 * or V8 aborts the process when the overflow hits a regular-expression compile), and
 * more than MAX_VALUES keys and values (each costs memory and time in every check).
 */
export function parseYaml(
  text: string,
  lines: LineCounter,
  options: { readonly strict: true; readonly uniqueKeys: true },
): ParsedYaml {
  // The lexer first: it is several times faster than the parser on a flood of values.
  const flood = firstValueOverLimit(text);
  if (flood !== undefined) {
    // The parser fills `lines` as it goes; it did not run, so count the lines here.
    lines.addNewLine(0);
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1))
      lines.addNewLine(at + 1);
    return { refused: { kind: 'too-many-values', offset: flood } };
  }
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const refused = checkShape(tokens);
  if (refused) return { refused };
  const composer = new Composer({ ...options, prettyErrors: false });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, text.length)) {
    if (!doc) {
      doc = next;
    } else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document.
  if (!doc) throw new Error('yaml Composer yielded no document');
  return { doc };
}

/** Lexer tokens that start a value: scalars, aliases and flow collections. */
const VALUE_TOKENS: ReadonlySet<string> = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'block-scalar-header',
  'alias',
  'flow-map-start',
  'flow-seq-start',
]);

/** Lexer markers that stand for no source text. */
const MARKERS: ReadonlySet<string> = new Set(['doc-mode', 'flow-error-end', 'scalar']);

/**
 * Offset of the first value past MAX_VALUES by the lexer's count, which never counts
 * more than checkShape does (block collections are not tokens), so it only refuses
 * what checkShape would refuse too.
 */
function firstValueOverLimit(text: string): number | undefined {
  let offset = 0;
  let values = 0;
  for (const source of new Lexer().lex(text)) {
    const type = CST.tokenType(source);
    if (type !== null && VALUE_TOKENS.has(type)) {
      values += 1;
      if (values > MAX_VALUES) return offset;
    }
    if (type === null || !MARKERS.has(type)) offset += source.length;
  }
  return undefined;
}

/** The first place, in document order, where the tree is too deep or too large. */
function checkShape(tokens: readonly CST.Token[]): ShapeProblem | undefined {
  // Iterative on purpose: the token tree may be a million levels deep.
  const stack: [CST.Token, number][] = tokens.map((t): [CST.Token, number] => [t, 0]).reverse();
  let values = 0;
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [token, depth] = next;
    if (depth > MAX_NESTING) return { kind: 'too-deep', offset: token.offset };
    if (depth > 0) {
      values += 1;
      if (values > MAX_VALUES) return { kind: 'too-many-values', offset: token.offset };
    }
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
    } else if (
      token.type === 'block-map' ||
      token.type === 'block-seq' ||
      token.type === 'flow-collection'
    ) {
      const children: CST.Token[] = [];
      for (const item of token.items) {
        if (item.key) children.push(item.key);
        if (item.value) children.push(item.value);
      }
      for (const child of children.reverse()) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/**
 * Each alias's node: the last node anchored with its name before it, as YAML defines
 * it. One walk for the whole document (yaml's Alias.resolve without a context walks
 * the document again for every alias, which is quadratic).
 */
export function aliasTargets(doc: Document.Parsed): ReadonlyMap<Alias, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor !== undefined) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

/** The text a mapping key is read as: scalars by their value, anything else as YAML text. */
export function keyName(key: unknown): string {
  const value: unknown = isScalar(key) ? key.value : key;
  return typeof value === 'string' ? value : String(value);
}
