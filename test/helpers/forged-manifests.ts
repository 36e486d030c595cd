// Forged manifests built from real signed ones (signature-wrapping attacks): the signed
// <machine_configuration> and <image> of one manifest hidden where a naive reader finds
// them first (comment, CDATA, processing instruction, attribute, duplicate element),
// while the elements the values are read from come from another bundle.

/** The first `<machine_configuration>…</machine_configuration>` and `<image>…</image>` texts. */
export function signedElements(xml: string): { config: string; image: string } {
  const cut = (name: string): string => {
    const start = xml.indexOf(`<${name}>`);
    const end = xml.indexOf(`</${name}>`) + `</${name}>`.length;
    if (start < 0 || end < start) throw new Error(`no <${name}> in the manifest`);
    return xml.slice(start, end);
  };
  return { config: cut('machine_configuration'), image: cut('image') };
}

export const WRAPPINGS = [
  'comment',
  'cdata',
  'processing-instruction',
  'attribute',
  'nested-element',
  'duplicate-element',
] as const;
export type Wrapping = (typeof WRAPPINGS)[number];

/**
 * `signedXml` (a real signed manifest) with its signed elements replaced by `realConfig` and
 * `realImage` (the values a reader should get), and the original signed text kept where
 * `how` says, before them. The `<signature>` stays the original one.
 */
export function wrapSignedElements(
  signedXml: string,
  real: { config: string; image: string },
  how: Wrapping,
): string {
  const original = signedElements(signedXml);
  const copy = original.config + original.image;
  const hidden: Record<Wrapping, string> = {
    comment: `<!--${copy}-->`,
    cdata: `<bundler_note><![CDATA[${copy}]]></bundler_note>`,
    'processing-instruction': `<?note ${copy}?>`,
    attribute: `<note text="${copy}"/>`,
    'nested-element': `<note>${copy}</note>`,
    'duplicate-element': copy,
  };
  return signedXml.replace(
    original.config + original.image,
    hidden[how] + real.config + real.image,
  );
}
