// Commands as `plan` shows them: shell-quoted like tools/exec.ts formatCommand (one rule,
// core/shell-quote.ts), except that <placeholders> for paths known only at run time
// (<out>, <tmp>/tree) stay readable.
import { shellQuote } from '../core/shell-quote.js';

const PLACEHOLDER = /<[a-z][a-z0-9-]*>/;
const PLACEHOLDERS = new RegExp(PLACEHOLDER.source, 'g');

/** The command line for the plan; an argument whose only special characters are placeholders is not quoted. */
export function planCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((arg) => {
      if (!PLACEHOLDER.test(arg)) return shellQuote(arg);
      const rest = arg.replace(PLACEHOLDERS, 'x');
      return shellQuote(rest) === rest ? arg : shellQuote(arg);
    })
    .join(' ');
}
