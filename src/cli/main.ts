// The CLI: parses argv with commander, wires commands (loaded lazily), owns signals
// and exit codes. Commands return an exit code; they never call process.exit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { exec as realExec } from '../tools/exec.js';
import { createStepKinds } from '../steps/registry.js';
import { stepKindOptions } from './step-kind-options.js';
import { cachedProbe, probeAccel } from '../tools/qemu-accel.js';
import { describeFsFailure, fsFailureOf } from '../core/fs-failure.js';
import { quietTask } from '../core/task.js';
import { EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes.js';
import { processTerminal } from './output/terminal.js';
import type { CliDeps } from './deps.js';
import type { ApplyDeps } from './commands/apply.js';
import { registerPublishCommands } from './commands/publish.js';
import { registerBundleImageCommand } from './commands/bundle-image.js';
import { registerUnbundleCommand } from './commands/unbundle.js';

/** The package version, from package.json (same depth from src/ and dist/). */
export function packageVersion(): string {
  const path = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

function engineDeps(deps: CliDeps): ApplyDeps {
  return {
    terminal: deps.terminal,
    env: deps.env,
    signal: deps.signal,
    makeKinds: (recipe) => {
      const given = deps.kinds;
      return given
        ? { kinds: given, close: () => Promise.resolve() }
        : createStepKinds(stepKindOptions(recipe), deps.env);
    },
    exec: deps.exec ?? realExec,
    version: packageVersion(),
    probeAccel:
      deps.probeAccel ??
      (async (signal) =>
        (await probeAccel(deps.exec ?? realExec, quietTask(signal), { env: deps.env })).accel),
    hostFacts:
      deps.hostFacts ??
      (async () => ({
        accel:
          (await cachedProbe(deps.exec ?? realExec, deps.signal, deps.env))?.accel ?? 'unknown',
        isRoot: process.getuid?.() === 0,
      })),
  };
}

const parseJobs = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
};

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

  program
    .command('plan')
    .description(
      'dry run: for each step, whether it runs or is up to date and why, the commands it would run and the remote effects; no side effects',
    )
    .argument('<recipe>', 'recipe file')
    .option('--json', 'print the plan as JSON (schemas/plan.schema.json)', false)
    .option(
      '--out <file>',
      'also save the plan as JSON; `emi-recipe apply <file>` then applies exactly it',
    )
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .option('--no-commands', 'do not list the commands of steps that run')
    .option(
      '--refresh',
      'also ask the cloud (read-only): are the endpoint, credentials, bucket and certificates usable, and do the recorded images and bundles still exist?',
      false,
    )
    .addHelpText(
      'after',
      examples(
        'emi-recipe plan recipes/debian-minimal.yaml',
        'emi-recipe plan recipes/debian-minimal.yaml --out plan.json && emi-recipe apply plan.json',
        'emi-recipe plan --json recipe.yaml | jq .summary',
      ),
    )
    .action(
      async (
        recipe: string,
        options: {
          json: boolean;
          out?: string;
          workDir?: string;
          commands: boolean;
          refresh: boolean;
        },
      ) => {
        const { runPlan } = await import('./commands/plan.js');
        result.code = await runPlan(recipe, options, engineDeps(deps));
      },
    );

  program
    .command('apply')
    .description(
      'build, bundle, upload and register: runs the steps that are not up to date, resumes after a crash, Ctrl-C or failure',
    )
    .argument(
      '<recipe-or-plan>',
      'a recipe file, or a plan saved with `plan --out` (applied only if nothing changed since)',
    )
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .option(
      '-j, --jobs <n>',
      'steps to run at the same time',
      parseJobs,
      Math.max(1, availableParallelism()),
    )
    .addOption(
      new Option(
        '--on-failure <mode>',
        'when a step fails: stop starting steps, continue with independent ones, or kill running ones too',
      )
        .choices(['stop', 'continue', 'kill'])
        .default('stop'),
    )
    .option(
      '--force <step...>',
      'run these steps even if up to date (and what depends on them, if their outputs change)',
      [],
    )
    .option(
      '--refresh',
      'also ask the cloud whether the images and bundles recorded as done still exist; re-run the steps whose effects are gone',
      false,
    )
    .option('--no-progress', 'plain timestamped lines instead of the progress display')
    .option('-v, --verbose', 'show the output of the tools as they run', false)
    .addHelpText(
      'after',
      `${examples('emi-recipe apply recipes/debian-minimal.yaml', 'emi-recipe apply plan.json', 'emi-recipe apply recipe.yaml --on-failure continue --no-progress')}\nInterrupt with Ctrl-C at any time (exit 130); run the same command again to resume.\nA second apply on the same work directory is refused (exit 3) while one runs.\n`,
    )
    .action(
      async (
        target: string,
        options: {
          workDir?: string;
          jobs: number;
          onFailure: 'stop' | 'continue' | 'kill';
          force: string[];
          refresh: boolean;
          progress: boolean;
          verbose: boolean;
        },
      ) => {
        const { runApply } = await import('./commands/apply.js');
        result.code = await runApply(target, options, engineDeps(deps));
      },
    );

  program
    .command('status')
    .description('what is done in the work directory, with outputs such as image ids')
    .argument('<recipe>', 'recipe file')
    .option('--json', 'print as JSON', false)
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .addHelpText(
      'after',
      examples(
        'emi-recipe status recipes/debian-minimal.yaml',
        'emi-recipe status --json recipe.yaml | jq .images',
      ),
    )
    .action(async (recipe: string, options: { json: boolean; workDir?: string }) => {
      const { runStatus } = await import('./commands/status.js');
      result.code = await runStatus(recipe, options, { terminal, env });
    });

  program
    .command('graph')
    .description('print the step graph')
    .argument('<recipe>', 'recipe file')
    .addOption(
      new Option('--format <format>', 'text, or dot for Graphviz')
        .choices(['text', 'dot'])
        .default('text'),
    )
    .addHelpText(
      'after',
      examples(
        'emi-recipe graph recipes/debian-minimal.yaml',
        'emi-recipe graph --format dot recipe.yaml | dot -Tsvg > graph.svg',
      ),
    )
    .action(async (recipe: string, options: { format: 'text' | 'dot' }) => {
      const { runGraphCommand } = await import('./commands/graph.js');
      result.code = await runGraphCommand(recipe, options, { terminal, env });
    });

  program
    .command('clean')
    .description(
      "remove the recipe's work directory (state, logs, artifacts); registered images are not touched",
    )
    .argument('<recipe>', 'recipe file')
    .option(
      '--keep-artifacts',
      'only remove logs and leftovers of interrupted steps; keep state and artifacts',
      false,
    )
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .addHelpText(
      'after',
      examples(
        'emi-recipe clean recipes/debian-minimal.yaml',
        'emi-recipe clean --keep-artifacts recipe.yaml',
      ),
    )
    .action(async (recipe: string, options: { keepArtifacts: boolean; workDir?: string }) => {
      const { runClean } = await import('./commands/clean.js');
      result.code = await runClean(recipe, options, { terminal, env });
    });
  registerPublishCommands(program, deps, result);

  program
    .command('doctor')
    .description(
      'check this host: the external tools emi-recipe runs (and the Debian/Ubuntu package for each missing one), and whether KVM really works',
    )
    .addOption(new Option('--json', 'print the report as JSON').default(false))
    .addOption(
      new Option(
        '--reprobe',
        'boot the KVM probe guests again instead of using the recorded result',
      ).default(false),
    )
    .addHelpText(
      'after',
      `${examples('emi-recipe doctor', 'emi-recipe doctor --json | jq .missingPackages')}\nExit status: 0 when every required tool is present, 1 otherwise. KVM is probed by booting\ntiny guests under it with a short timeout (a /dev/kvm node alone proves nothing); the result\nis recorded per host kernel and QEMU version, and VMs fall back to TCG when it fails.\n`,
    )
    .action(async (options: { json: boolean; reprobe: boolean }) => {
      const { runDoctor } = await import('./commands/doctor.js');
      const { exec } = await import('../tools/exec.js');
      result.code = await runDoctor(options, terminal, { exec, env, signal: deps.signal });
    });

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
