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

/** The query pairs decoded; keys may repeat. */
export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0
        ? [safeDecode(pair), '']
        : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
    });
}
