// Shell quoting for the scripts emi-recipe writes into images (rc.local, the customize
// script). Pure. Scripts are POSIX sh: they must run under dash, bash and busybox ash.

/** A single-quoted sh word: safe for any text, including quotes and newlines. */
export function shWord(text: string): string {
  if (text !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
