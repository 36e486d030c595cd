// Registers the commands of the build workflow (validate, plan, apply) on the commander
// program: options and help only; each action loads its command file lazily.
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ExitCode } from './exit-codes.js';
import type { CliDeps } from './deps.js';
import { engineDeps } from './engine-deps.js';
import { examples } from './help-text.js';
import { parseDuration } from '../recipe/units.js';

const parseJobs = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
};

const parseWait = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 10m, 90s or 0');
  return ms;
};

const parseLease = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 3000)
    throw new InvalidArgumentError('expected a duration of at least 3s, such as 5m');
  return ms;
};

const STORE_HELP =
  "keep the state (and apply's lock) in this S3 store instead of the work directory; overrides the recipe's store.url. Endpoint and credentials: the publishing target's";
const NO_LOCK_HELP =
  'take no lock in a shared store (one runner only; said loudly). Needed for a server that ignores conditional writes';

/** `validate`: checks recipe files (syntax, schema, cross-field rules). */
export function registerValidateCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env } = deps;
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
}

/** `plan`: the dry run, optionally saved for `apply`. */
export function registerPlanCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
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
    .option('--store <s3-url>', STORE_HELP)
    .option('--no-lock', NO_LOCK_HELP)
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
        'emi-recipe plan recipe.yaml --store s3://emi-state/ci   # what CI built, from a fresh checkout',
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
          store?: string;
          lock: boolean;
        },
      ) => {
        const { runPlan } = await import('./commands/plan.js');
        result.code = await runPlan(recipe, options, engineDeps(deps));
      },
    );
}

/** `apply`: runs the steps that are not up to date. */
export function registerApplyCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
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
    .option('--store <s3-url>', STORE_HELP)
    .option('--no-lock', NO_LOCK_HELP)
    .option(
      '--lock-timeout <duration>',
      "wait this long for a shared store's lock that another run holds (default: refuse at once, exit 3)",
      parseWait,
    )
    .option(
      '--lease <duration>',
      "how long a shared store's lock lasts unless renewed (overrides the recipe's store.lease, default 5m)",
      parseLease,
    )
    .option('--no-progress', 'plain timestamped lines instead of the progress display')
    .option('-v, --verbose', 'show the output of the tools as they run', false)
    .addHelpText(
      'after',
      `${examples('emi-recipe apply recipes/debian-minimal.yaml', 'emi-recipe apply plan.json', 'emi-recipe apply recipe.yaml --on-failure continue --no-progress', 'emi-recipe apply recipe.yaml --store s3://emi-state/ci --lock-timeout 10m')}\nInterrupt with Ctrl-C at any time (exit 130); run the same command again to resume.\nA second apply on the same work directory, or on the same recipe in a shared store, is\nrefused (exit 3) while one runs, naming its holder; --lock-timeout waits instead.\n`,
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
          store?: string;
          lock: boolean;
          lockTimeout?: number;
          lease?: number;
        },
      ) => {
        const { runApply } = await import('./commands/apply.js');
        const { lockTimeout, lease, ...rest } = options;
        result.code = await runApply(
          target,
          {
            ...rest,
            ...(lockTimeout !== undefined ? { lockTimeoutMs: lockTimeout } : {}),
            ...(lease !== undefined ? { leaseMs: lease } : {}),
          },
          engineDeps(deps),
        );
      },
    );
}
