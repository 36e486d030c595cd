// A strict reader for the small XML subset a bundle manifest is written in: elements,
// attributes, text, the five predefined entities and character references. It keeps each
// element's exact source span so that a signature is checked over the very bytes the values
// are read from. Everything that lets two readers see different documents is refused:
// comments, processing instructions, CDATA, DOCTYPE and entity definitions, namespaces,
// non-ASCII bytes. It knows nothing of the manifest's element names.
import { err, ok, type Result } from '../core/result.js';

export interface XmlElement {
  readonly name: string;
  /** Path for messages, XPath style: `manifest/image/parts/part[2]` is the second part. */
  readonly path: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** The character data directly inside this element, entity references decoded. */
  readonly text: string;
  /** Source offsets: `<` of the start tag, just after its `>`, `<` of the end tag, just after it. */
  readonly start: number;
  readonly startTagEnd: number;
  readonly endTagStart: number;
  readonly end: number;
}

/** Why the text is not accepted; `where` is `line L, column C` (1-based). */
export interface XmlRefusal {
  readonly where: string;
  readonly problem: string;
}

/** Deeper nesting than any manifest has (it needs 5 levels) is refused. */
const MAX_DEPTH = 32;
const NAME = /[A-Za-z_][A-Za-z0-9._-]*/y;
const MARKUP = /[<&]/g;
const DECLARATION =
  /<\?xml\s+version\s*=\s*(['"])1\.\d+\1(?:\s+encoding\s*=\s*(['"])[A-Za-z][A-Za-z0-9._-]*\2)?(?:\s+standalone\s*=\s*(['"])(?:yes|no)\3)?\s*\?>/y;
const PREDEFINED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

interface Building {
  name: string;
  path: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
  start: number;
  startTagEnd: number;
  counts: Map<string, number>;
}

class Refused extends Error {
  constructor(
    readonly at: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** Parses `source` (one character per byte, as read with 'latin1') into its root element. */
export function parseStrictXml(source: string): Result<XmlElement, XmlRefusal> {
  try {
    return ok(new Reader(source).document());
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return err({ where: position(source, error.at), problem: error.problem });
  }
}

function position(source: string, at: number): string {
  const before = source.slice(0, at);
  const line = before.split('\n').length;
  return `line ${line}, column ${at - before.lastIndexOf('\n')}`;
}

class Reader {
  readonly #s: string;
  #at = 0;

  constructor(source: string) {
    this.#s = source;
    for (let i = 0; i < source.length; i += 1) {
      const code = source.charCodeAt(i);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code > 0x7e)
        throw new Refused(
          i,
          `byte 0x${code.toString(16).padStart(2, '0')} is not accepted: a manifest is ASCII text (other characters are written as &#N; references)`,
        );
    }
  }

  document(): XmlElement {
    DECLARATION.lastIndex = 0;
    if (this.#s.startsWith('<?xml')) {
      if (!DECLARATION.test(this.#s))
        throw new Refused(0, 'malformed XML declaration (expected <?xml version="1.0" …?>)');
      this.#at = DECLARATION.lastIndex;
    }
    this.#skipSpace();
    if (this.#at >= this.#s.length) throw new Refused(this.#at, 'no root element');
    this.#refuseMarkup();
    if (this.#s[this.#at] !== '<') throw new Refused(this.#at, 'text before the root element');
    const root = this.#element();
    this.#skipSpace();
    if (this.#at < this.#s.length) {
      this.#refuseMarkup();
      throw new Refused(this.#at, 'content after the end of the root element');
    }
    return root;
  }

  /** Reads one element with everything inside it, without recursion. */
  #element(): XmlElement {
    const stack: Building[] = [];
    let root: XmlElement | undefined;
    const open = (parent: Building | undefined): void => {
      const start = this.#at;
      this.#at += 1; // '<'
      const name = this.#name('element');
      const attributes = this.#attributes(start, name);
      const counts = parent?.counts;
      const n = (counts?.get(name) ?? 0) + 1;
      counts?.set(name, n);
      const path = parent === undefined ? name : `${parent.path}/${name}${n > 1 ? `[${n}]` : ''}`;
      if (stack.some((b) => b.name === name))
        throw new Refused(start, `<${name}> inside another <${name}> (${path})`);
      if (stack.length >= MAX_DEPTH)
        throw new Refused(start, `elements nested more than ${MAX_DEPTH} deep`);
      const selfClosing = this.#s[this.#at] === '/';
      this.#at += selfClosing ? 2 : 1;
      const building: Building = {
        name,
        path,
        attributes,
        children: [],
        text: '',
        start,
        startTagEnd: this.#at,
        counts: new Map(),
      };
      if (selfClosing) close(building, this.#at);
      else stack.push(building);
    };
    const close = (b: Building, endTagStart: number): void => {
      const element: XmlElement = {
        name: b.name,
        path: b.path,
        attributes: b.attributes,
        children: b.children,
        text: b.text,
        start: b.start,
        startTagEnd: b.startTagEnd,
        endTagStart,
        end: this.#at,
      };
      const parent = stack.at(-1);
      if (parent === undefined) root = element;
      else parent.children.push(element);
    };
    open(undefined);
    while (root === undefined) {
      const current = stack.at(-1);
      if (current === undefined) throw new Refused(this.#at, 'internal: empty element stack');
      const c = this.#s[this.#at];
      if (c === undefined) throw new Refused(current.start, `<${current.name}> is not closed`);
      if (c === '&') {
        current.text += this.#reference();
      } else if (c === '<') {
        if (this.#s[this.#at + 1] === '/') {
          const endTagStart = this.#at;
          this.#at += 2;
          const name = this.#name('element');
          this.#skipSpace();
          if (name !== current.name)
            throw new Refused(endTagStart, `</${name}> closes <${current.name}>`);
          if (this.#s[this.#at] !== '>')
            throw new Refused(this.#at, `expected > to end </${name}>`);
          this.#at += 1;
          stack.pop();
          close(current, endTagStart);
        } else {
          this.#refuseMarkup();
          open(current);
        }
      } else {
        current.text += this.#text();
      }
    }
    return root;
  }

  /** The attributes of a start tag, up to (not including) its `>` or `/>`. */
  #attributes(start: number, name: string): Map<string, string> {
    const attributes = new Map<string, string>();
    for (;;) {
      const hadSpace = this.#skipSpace();
      const c = this.#s[this.#at];
      if (c === '>' || (c === '/' && this.#s[this.#at + 1] === '>')) return attributes;
      if (c === undefined) throw new Refused(start, `<${name}> is not closed`);
      if (!hadSpace) throw new Refused(this.#at, `expected a space or > in the tag <${name}>`);
      const attrAt = this.#at;
      const attr = this.#name('attribute');
      if (attr === 'xmlns') throw new Refused(attrAt, 'namespaces are not accepted');
      this.#skipSpace();
      if (this.#s[this.#at] !== '=')
        throw new Refused(this.#at, `expected = after the attribute ${attr}`);
      this.#at += 1;
      this.#skipSpace();
      if (attributes.has(attr))
        throw new Refused(attrAt, `attribute ${attr} given twice on <${name}>`);
      attributes.set(attr, this.#quoted());
    }
  }

  /** Character data up to the next markup, checked. */
  #text(): string {
    MARKUP.lastIndex = this.#at;
    const end = MARKUP.exec(this.#s)?.index ?? this.#s.length;
    const text = this.#s.slice(this.#at, end);
    const bad = text.indexOf(']]>');
    if (bad >= 0) throw new Refused(this.#at + bad, ']]> is not allowed in text');
    // XML readers turn CR LF into LF in text: a value holding a raw CR would read
    // differently elsewhere. (Between elements, where it is only white space, it is harmless.)
    const cr = text.indexOf('\r');
    if (cr >= 0 && text.trim() !== '')
      throw new Refused(this.#at + cr, 'a raw carriage return in text (write &#13;)');
    this.#at = end;
    return text;
  }

  /** Refuses what may follow `<` other than a tag: comments, CDATA, DOCTYPE, PIs. */
  #refuseMarkup(): void {
    const rest = this.#s.slice(this.#at, this.#at + 9);
    if (rest.startsWith('<!--'))
      throw new Refused(this.#at, 'comments are not accepted in a manifest');
    if (rest.startsWith('<![CDATA['))
      throw new Refused(this.#at, 'CDATA sections are not accepted in a manifest');
    if (rest.startsWith('<!'))
      throw new Refused(this.#at, 'DOCTYPE and entity declarations are not accepted in a manifest');
    if (rest.startsWith('<?'))
      throw new Refused(
        this.#at,
        'processing instructions are not accepted in a manifest (only the XML declaration, first)',
      );
  }

  #name(kind: 'element' | 'attribute'): string {
    NAME.lastIndex = this.#at;
    const match = NAME.exec(this.#s);
    if (match === null) throw new Refused(this.#at, `expected an ${kind} name`);
    this.#at = NAME.lastIndex;
    if (this.#s[this.#at] === ':')
      throw new Refused(this.#at, 'namespaces (names with :) are not accepted');
    return match[0];
  }

  #quoted(): string {
    const quote = this.#s[this.#at];
    if (quote !== '"' && quote !== "'")
      throw new Refused(this.#at, 'expected a quoted attribute value');
    this.#at += 1;
    let value = '';
    for (;;) {
      const c = this.#s[this.#at];
      if (c === undefined) throw new Refused(this.#at, 'attribute value is not closed');
      if (c === quote) break;
      if (c === '<') throw new Refused(this.#at, '< is not allowed in an attribute value');
      if (c === '&') value += this.#reference();
      else {
        value += c;
        this.#at += 1;
      }
    }
    this.#at += 1;
    return value;
  }

  /** `&amp;` and the other four, `&#N;`, `&#xH;`; any other entity is refused. */
  #reference(): string {
    const at = this.#at;
    const match = /^&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z_][A-Za-z0-9._-]*);/.exec(
      this.#s.slice(at, at + 12),
    );
    if (match === null) throw new Refused(at, '& must start an entity reference such as &amp;');
    const body = match[1] ?? '';
    this.#at += match[0].length;
    if (!body.startsWith('#')) {
      const value = PREDEFINED[body];
      if (value === undefined)
        throw new Refused(
          at,
          `entity &${body}; is not accepted (only &amp; &lt; &gt; &quot; &apos; and &#N;)`,
        );
      return value;
    }
    const code = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    const allowed =
      code === 0x09 ||
      code === 0x0a ||
      code === 0x0d ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) throw new Refused(at, `&${body}; is not a character XML allows`);
    return String.fromCodePoint(code);
  }

  /** Skips XML white space; true when there was some. */
  #skipSpace(): boolean {
    const from = this.#at;
    while (/[ \t\r\n]/.test(this.#s[this.#at] ?? '')) this.#at += 1;
    return this.#at > from;
  }
}
