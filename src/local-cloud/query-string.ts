// A request's query string as both signature versions and the S3/EC2 handlers read it:
// decoded pairs (keys may repeat, '+' is a space) and RFC 3986 encoding. No signing here.
/** RFC 3986 encoding as SigV4 wants it (also !'()*). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** The query pairs decoded; keys may repeat; a bare name (`?acl`) has the value ''. */
export function parseQuery(rawQuery: string): [string, string][] {
  return parseQueryAsSent(rawQuery).map(([name, value]) => [name, value ?? '']);
}

/** The query pairs decoded, a bare name (`?acl`) with `undefined` (SigV2 signs it bare). */
export function parseQueryAsSent(rawQuery: string): [string, string | undefined][] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0
        ? [safeDecode(pair), undefined]
        : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
    });
}
