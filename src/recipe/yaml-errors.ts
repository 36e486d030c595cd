// Where a YAML syntax error really starts. The yaml library reports an unclosed flow
// collection or quoted string where it gave up looking for the end (often the line after
// the last one); people need the `[`, `{` or quote that was never closed.
import { isMap, isScalar, isSeq, visit, type Document, type Node, type YAMLError } from 'yaml';

/** What was left open, for the message. */
export type UnclosedConstruct = '[' | '{' | '"' | "'";

export interface Unclosed {
  readonly opener: UnclosedConstruct;
  /** Offset of the opening character in the text. */
  readonly offset: number;
}

/** Which opener an error message says is missing its end (yaml 2's wording), if any. */
function missingEnd(error: YAMLError): readonly UnclosedConstruct[] {
  if (/end with a \]/.test(error.message)) return ['['];
  if (/end with a \}/.test(error.message)) return ['{'];
  if (error.code === 'MISSING_CHAR' && /closing "?quote/i.test(error.message)) return ['"', "'"];
  return [];
}

/**
 * The innermost construct of the kind `error` says is unclosed that starts before the
 * error's position and runs up to it: the place to point at. Undefined for other errors.
 */
export function unclosedConstruct(doc: Document, error: YAMLError): Unclosed | undefined {
  const wanted = missingEnd(error);
  if (wanted.length === 0) return undefined;
  const at = error.pos[0];
  let found: Unclosed | undefined;
  visit(doc, (_key, node) => {
    const opener = openerOf(node as Node);
    const range = (node as Node).range;
    if (opener === undefined || !range || !wanted.includes(opener)) return;
    if (range[0] < at && range[1] >= at && (found === undefined || range[0] > found.offset))
      found = { opener, offset: range[0] };
  });
  return found;
}

function openerOf(node: Node): UnclosedConstruct | undefined {
  if (isSeq(node) && node.flow === true) return '[';
  if (isMap(node) && node.flow === true) return '{';
  if (isScalar(node) && node.type === 'QUOTE_DOUBLE') return '"';
  if (isScalar(node) && node.type === 'QUOTE_SINGLE') return "'";
  return undefined;
}
