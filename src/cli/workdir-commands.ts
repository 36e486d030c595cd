// Registers the commands that read or tidy a recipe's work directory or store (status,
// graph, clean, unlock) on the commander program: options and help only; actions load
// lazily.
import { Option, type Command } from 'commander';
import type { ExitCode } from './exit-codes.js';
import type { CliDeps } from './deps.js';
import { examples } from './help-text.js';

/** `status`: what is done in the work directory. */
export function registerStatusCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env } = deps;
  program
    .command('status')
    .description('what is done in the work directory, with outputs such as image ids')
    .argument('<recipe>', 'recipe file')
    .option('--json', 'print as JSON', false)
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .option(
      '--store <s3-url>',
      "read the state and the lock's holder from this shared store (overrides store.url)",
    )
    .addHelpText(
      'after',
      examples(
        'emi-recipe status recipes/debian-minimal.yaml',
        'emi-recipe status --json recipe.yaml | jq .images',
        'emi-recipe status recipe.yaml --store s3://emi-state/ci   # who holds the lock',
      ),
    )
    .action(
      async (recipe: string, options: { json: boolean; workDir?: string; store?: string }) => {
        const { runStatus } = await import('./commands/status.js');
        result.code = await runStatus(recipe, options, { terminal, env, signal: deps.signal });
      },
    );
}

/** `graph`: the step graph as text or Graphviz dot. */
export function registerGraphCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env } = deps;
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
}

/** `clean`: removes the work directory, or only its leftovers. */
export function registerCleanCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env } = deps;
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
}

/** `unlock`: removes a lock by its ID (a dead run's), like terraform force-unlock. */
export function registerUnlockCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env, signal } = deps;
  program
    .command('unlock')
    .description(
      "remove the lock of a recipe's store (or work directory) by its ID, when the run that holds it is dead; a wrong ID is refused",
    )
    .argument('<lock-id>', 'the lock ID, as printed by the apply that found the lock held')
    .argument('<recipe>', 'recipe file')
    .option(
      '--store <s3-url>',
      "the shared store (overrides the recipe's store.url; default: the work directory)",
    )
    .option('--work-dir <dir>', 'work directory (default: .emi-recipe/<name>/ beside the recipe)')
    .addHelpText(
      'after',
      `${examples(
        'emi-recipe unlock 3f2c9a4e-8d1b-4c7e-9f00-5a6b7c8d9e0f recipes/debian-minimal.yaml',
        'emi-recipe unlock 3f2c9a4e-8d1b-4c7e-9f00-5a6b7c8d9e0f recipe.yaml --store s3://emi-state/ci',
      )}\nAn apply that finds the lock held prints the holder (user@host, pid, CI job) and its lock ID.\nOnly remove a lock whose run is dead: a live run that loses its lock stops at its next\nlease renewal or state write. A lock left by a dead run also frees itself when its lease\nruns out (store.lease, default 5m). Exit 2 when the ID is not the lock's.\n`,
    )
    .action(async (id: string, recipe: string, options: { store?: string; workDir?: string }) => {
      const { runUnlock } = await import('./commands/unlock.js');
      result.code = await runUnlock(id, recipe, options, { terminal, env, signal });
    });
}
