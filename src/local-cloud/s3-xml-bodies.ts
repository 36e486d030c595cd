// The two XML request bodies the local cloud's S3 reads: CompleteMultipartUpload's part
// list and DeleteObjects' key list. A small reader for these flat documents (elements
// by name, entities decoded), not a general XML parser; anything that does not fit is
// MalformedXML, as S3 answers it. Pure.
import { err, ok, type Result } from '../core/result.js';
import type { RequestedPart } from './multipart-rules.js';

/** Why a body was refused, in words for S3's MalformedXML message. */
export interface MalformedXml {
  readonly code: 'MalformedXML';
  readonly problem: string;
}

/** S3 takes at most this many keys in one DeleteObjects request. */
export const MAX_DELETE_KEYS = 1000;

const ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** XML text with its character and entity references decoded; undefined if one is unknown. */
export function decodeXmlText(text: string): string | undefined {
  if (/&(?!(#x[0-9a-fA-F]{1,6}|#\d{1,7}|[a-z]+);)/.test(text)) return undefined;
  const unknown: string[] = [];
  const out = text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (all, ref: string) => {
    const code = ref.startsWith('#x')
      ? parseInt(ref.slice(2), 16)
      : ref.startsWith('#')
        ? parseInt(ref.slice(1), 10)
        : undefined;
    const decoded =
      code === undefined
        ? ENTITIES[ref]
        : code <= 0x10ffff
          ? String.fromCodePoint(code)
          : undefined;
    if (decoded === undefined) unknown.push(all);
    return decoded ?? all;
  });
  return unknown.length > 0 ? undefined : out;
}

/** The contents of every `<name>…</name>` (attributes allowed) directly in `xml`. */
function elements(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1] ?? '');
}

/** The decoded text of the first `<name>` element, or undefined. */
function field(xml: string, name: string): string | undefined {
  const found = elements(xml, name)[0];
  return found === undefined ? undefined : decodeXmlText(found);
}

/** The document's root element's content, when the root is `root`. */
function rootContent(xml: string, root: string): string | undefined {
  const body = xml.replace(/^\uFEFF?\s*(<\?xml[^>]*\?>)?\s*/, '');
  const m = new RegExp(`^<${root}(?:\\s[^>]*)?>([\\s\\S]*)</${root}>\\s*$`).exec(body);
  return m?.[1];
}

/** The parts of a CompleteMultipartUpload body, in the order given. */
export function parseCompleteMultipartUpload(
  xml: string,
): Result<readonly RequestedPart[], MalformedXml> {
  const content = rootContent(xml, 'CompleteMultipartUpload');
  if (content === undefined)
    return err({
      code: 'MalformedXML',
      problem: 'the root element is not CompleteMultipartUpload',
    });
  const parts: RequestedPart[] = [];
  for (const part of elements(content, 'Part')) {
    const number = field(part, 'PartNumber')?.trim();
    const etag = field(part, 'ETag')?.trim();
    if (number === undefined || !/^\d+$/.test(number) || etag === undefined)
      return err({ code: 'MalformedXML', problem: 'a Part lacks a PartNumber or an ETag' });
    parts.push({ partNumber: Number(number), etag: etag.replace(/^"(.*)"$/, '$1') });
  }
  if (parts.length === 0) return err({ code: 'MalformedXML', problem: 'the part list is empty' });
  return ok(parts);
}

/** One key of a DeleteObjects request. */
export interface DeleteRequestObject {
  readonly key: string;
  readonly versionId?: string;
}

/** The keys (and Quiet flag) of a DeleteObjects body. */
export function parseDeleteObjects(
  xml: string,
): Result<
  { readonly quiet: boolean; readonly objects: readonly DeleteRequestObject[] },
  MalformedXml
> {
  const content = rootContent(xml, 'Delete');
  if (content === undefined)
    return err({ code: 'MalformedXML', problem: 'the root element is not Delete' });
  const objects: DeleteRequestObject[] = [];
  for (const object of elements(content, 'Object')) {
    const key = field(object, 'Key');
    if (key === undefined || key === '')
      return err({ code: 'MalformedXML', problem: 'an Object has no Key' });
    const versionId = field(object, 'VersionId');
    objects.push({ key, ...(versionId !== undefined ? { versionId } : {}) });
  }
  if (objects.length === 0) return err({ code: 'MalformedXML', problem: 'no Object to delete' });
  if (objects.length > MAX_DELETE_KEYS)
    return err({
      code: 'MalformedXML',
      problem: `${String(objects.length)} keys; one request deletes at most ${String(MAX_DELETE_KEYS)}`,
    });
  const quiet = field(content.replace(/<Object(?:\s[^>]*)?>[\s\S]*?<\/Object>/g, ''), 'Quiet');
  return ok({ quiet: quiet?.trim().toLowerCase() === 'true', objects });
}
