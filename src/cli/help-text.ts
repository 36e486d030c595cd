// Help text pieces shared by the command registrations.

/** An "Examples:" section for `addHelpText('after', …)`: one `$ command` per line. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
