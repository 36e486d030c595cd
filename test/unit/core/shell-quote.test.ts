// The one shell-quoting rule (core/shell-quote.ts) shared by displayed commands
// (tools/exec.ts formatCommand, plans) and the scripts written into images (guest/).
import { describe, expect, test } from '@jest/globals';
import { shellQuote } from '../../../src/core/shell-quote.js';
import { formatCommand } from '../../../src/tools/exec.js';

/**
 * How a POSIX shell reads one word made of plain characters, '…' spans and \x escapes
 * (the only forms shellQuote writes); throws on anything else, e.g. an unquoted space.
 */
function readWord(word: string): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word.charAt(i);
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${word}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      out += word.charAt(i + 1);
      i += 2;
    } else if (/[A-Za-z0-9_@%+=:,./-]/.test(c)) {
      out += c;
      i += 1;
    } else throw new Error(`unquoted ${JSON.stringify(c)} in ${word}`);
  }
  return out;
}

describe('shellQuote', () => {
  test.each([
    ['/etc/motd', '/etc/motd'],
    ['user@host:/srv,a=b+c%d', 'user@host:/srv,a=b+c%d'],
    ['', "''"],
    ["it's", "'it'\\''s'"],
    ["''", "''\\'''\\'''"],
    ['"double"', `'"double"'`],
    ['two words', "'two words'"],
    ['line one\nline two', "'line one\nline two'"],
    ['$HOME `id` $(id) *?[a] ~ ; & | < > # !', "'$HOME `id` $(id) *?[a] ~ ; & | < > # !'"],
    ['back\\slash', "'back\\slash'"],
    ['tab\there', "'tab\there'"],
    ['héllo wörld', "'héllo wörld'"],
    ['日本語', "'日本語'"],
  ])('%j -> %s', (text, quoted) => {
    expect(shellQuote(text)).toBe(quoted);
    expect(readWord(quoted)).toBe(text);
  });

  test('a leading dash stays a dash: quoting cannot stop option parsing (scripts use --)', () => {
    expect(shellQuote('-rf')).toBe('-rf');
    expect(shellQuote('--include=a,b')).toBe('--include=a,b');
    expect(shellQuote('-n x')).toBe("'-n x'");
  });

  test('every string reads back as itself', () => {
    const samples = ["'", "a'b'c", "'\n'", '\0x', 'ü\'"\\$', ' ', '\r\n', '=', '-', '--'];
    for (const text of samples) expect(readWord(shellQuote(text))).toBe(text);
  });

  test('formatCommand quotes each word with the same rule', () => {
    const args = ['-o', 'it is', '', "don't", 'plain'];
    expect(formatCommand('prog', args)).toBe(['prog', ...args].map(shellQuote).join(' '));
    expect(formatCommand('prog', args)).toBe("prog -o 'it is' '' 'don'\\''t' plain");
  });
});
