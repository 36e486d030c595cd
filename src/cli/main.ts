// The CLI: parses argv with commander, wires commands (loaded lazily), owns signals
// and exit codes. Commands return an exit code; they never call process.exit.
import { Command, CommanderError } from 'commander';
import { describeFsFailure, fsFailureOf } from '../core/fs-failure.js';
import { EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { processTerminal } from './output/terminal.js';
import type { CliDeps } from './deps.js';
import { registerPublishCommands } from './commands/publish.js';
import { registerBundleImageCommand } from './commands/bundle-image.js';
import { registerUnbundleCommand } from './commands/unbundle.js';
import {
  registerApplyCommand,
  registerPlanCommand,
  registerValidateCommand,
} from './build-commands.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerCacheCommands } from './commands/cache.js';
import { examples } from './help-text.js';
import { packageVersion } from './version.js';
import {
  registerCleanCommand,
  registerGraphCommand,
  registerStatusCommand,
  registerUnlockCommand,
} from './workdir-commands.js';

/** Builds the commander program; each action stores its exit code in `result`. */
export function buildProgram(deps: CliDeps, result: { code: ExitCode }): Command {
  const { terminal } = deps;
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

  // The order here is the order of `emi-recipe --help`.
  registerValidateCommand(program, deps, result);
  registerPlanCommand(program, deps, result);
  registerApplyCommand(program, deps, result);
  registerStatusCommand(program, deps, result);
  registerGraphCommand(program, deps, result);
  registerCleanCommand(program, deps, result);
  registerUnlockCommand(program, deps, result);
  registerCacheCommands(program, deps, result);
  registerPublishCommands(program, deps, result);
  registerDoctorCommand(program, deps, result);
  registerBundleImageCommand(program, deps, result);
  registerUnbundleCommand(program, deps, result);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script). Returns the exit code; never
 * throws: an unexpected exception is reported as an internal error (exit 70), except
 * a file-system error the user must fix (EROFS, EACCES, EPERM, ENOSPC, EDQUOT), which
 * is reported with its path (exit 1).
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
    // A read-only, full or forbidden file system met where no command expected it is the
    // machine's problem, not a bug: say which path and what to do (exit 1, not 70).
    const failure = fsFailureOf(error);
    if (failure) {
      deps.terminal.err(`error: ${describeFsFailure(failure, { action: 'access' })}\n`);
      return EXIT.failure;
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
  // `emi-recipe status … | head`: the reader went away; stop quietly instead of crashing.
  const onPipeError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  };
  process.stdout.on('error', onPipeError);
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
