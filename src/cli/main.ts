// The CLI: parses argv with commander, wires commands (loaded lazily), owns signals
// and exit codes. Commands return an exit code; they never call process.exit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { processTerminal, type Terminal } from './output/terminal.js';
import { registerBundleImageCommand } from './commands/bundle-image.js';
import { registerUnbundleCommand } from './commands/unbundle.js';

/** What main needs from the outside world; tests pass their own. */
export interface CliDeps {
  readonly terminal: Terminal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
}

/** The package version, from package.json (same depth from src/ and dist/). */
export function packageVersion(): string {
  const path = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Builds the commander program; each action stores its exit code in `result`. */
export function buildProgram(deps: CliDeps, result: { code: ExitCode }): Command {
  const { terminal, env } = deps;
  const program = new Command('emi-recipe')
    .description(
      'Build Eucalyptus Machine Images (kernel eki, ramdisk eri, machine emi) from a YAML recipe:\n' +
        'install, customise, extract, bundle, upload and register, resumably.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: terminal.out, writeErr: terminal.err })
    .exitOverride()
    .addHelpText(
      'after',
      `${examples('emi-recipe validate recipes/debian-minimal.yaml', 'emi-recipe validate --json recipes/*.yaml')}\n${EXIT_CODES_HELP}\n\nDocumentation: docs/recipe.md (the recipe format), README.md.\n`,
    );

  program
    .command('validate')
    .description(
      'check recipes: YAML syntax, the schema, and cross-field rules; print every problem with its line and column',
    )
    .argument('<recipe...>', 'recipe files (YAML)')
    .addOption(
      new Option('--json', 'print the result as JSON (stable, see docs/cli.md)').default(false),
    )
    .addHelpText(
      'after',
      `${examples('emi-recipe validate recipes/debian-minimal.yaml', 'emi-recipe validate --json recipes/*.yaml > report.json')}\nExit status: 0 when every recipe is valid (warnings allowed), 2 otherwise.\nInputs that depend on this machine (an ISO, certificates, eucarc variables) are only\nwarnings here; plan and apply require them.\n`,
    )
    .action(async (files: string[], options: { json: boolean }) => {
      const { runValidate } = await import('./commands/validate.js');
      result.code = await runValidate(files, options, terminal, env);
    });

  registerBundleImageCommand(program, deps, result);
  registerUnbundleCommand(program, deps, result);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script). Returns the exit code; never
 * throws: an unexpected exception is reported as an internal error (exit 70).
 */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const result: { code: ExitCode } = { code: EXIT.ok };
  const program = buildProgram(deps, result);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      if (error.exitCode === 0) return EXIT.ok;
      if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed')
        return EXIT.ok;
      deps.terminal.err(`Run 'emi-recipe --help' for usage.\n`);
      return EXIT.usage;
    }
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    deps.terminal.err(
      `internal error: ${stack}\nThis is a bug in emi-recipe. Please report it with the command you ran and the output above.\n`,
    );
    return EXIT.internal;
  }
}

/** The process entry point (bin/emi-recipe.js): real terminal, env and signals. */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write(`\n${name} again: exiting now; run the same command again to resume.\n`);
      process.exit(EXIT.interrupted);
    }
    process.stderr.write(`\n${name}: stopping (press Ctrl-C again to exit at once)...\n`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const code = await runCli(argv, {
      terminal: processTerminal(process.env),
      env: process.env,
      signal: controller.signal,
    });
    return controller.signal.aborted && code !== EXIT.ok ? EXIT.interrupted : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
