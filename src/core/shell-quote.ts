// POSIX sh quoting of one word: the single rule for commands shown to the user
// (tools/exec.ts formatCommand, plans) and for the scripts written into images (guest/).
// Pure and domain-free; quoting never turns a leading '-' into a non-option (use `--`).

/** Characters that no POSIX shell (dash, bash, busybox ash) treats specially in a word. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `text` as one sh word: unchanged when it is non-empty and made of plain characters
 * only, else single-quoted with each `'` written as `'\''`. Safe for any string,
 * including the empty one, quotes, newlines and non-ASCII text; the shell reads back
 * exactly `text`.
 */
export function shellQuote(text: string): string {
  if (text !== '' && PLAIN.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
