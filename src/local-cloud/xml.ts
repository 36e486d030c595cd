// Tiny XML writer for the local cloud's S3 and EC2 responses. Escapes text; no parsing.

/** Escapes text for XML element content and attribute values. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * A node: element name (optionally followed by attributes written out, e.g.
 * `Grantee xsi:type="Group"`), then children (nodes) or text; undefined children are skipped.
 */
export type XmlNode = readonly [string, XmlContent] | undefined;
export type XmlContent = string | number | boolean | readonly XmlNode[];

/** Renders a node and its children without whitespace. */
export function renderXml(node: XmlNode): string {
  if (node === undefined) return '';
  const [name, content] = node;
  const tag = name.split(' ')[0] ?? name;
  if (typeof content === 'string' || typeof content === 'number' || typeof content === 'boolean')
    return `<${name}>${xmlEscape(String(content))}</${tag}>`;
  return `<${name}>${content.map(renderXml).join('')}</${tag}>`;
}

/** A whole document with a declaration; `xmlns` goes on the root element. */
export function xmlDocument(
  root: string,
  xmlns: string | undefined,
  children: readonly XmlNode[],
): string {
  const ns = xmlns !== undefined ? ` xmlns="${xmlEscape(xmlns)}"` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${children.map(renderXml).join('')}</${root}>`;
}
