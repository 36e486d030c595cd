// Registers `cache ls` and `cache prune` (the step cache of a shared store) on the
// commander program: options and help only; the work loads lazily (cache-ls.ts,
// cache-prune.ts), so other commands do not load the AWS SDK.
import { Option, type Command } from 'commander';
import type { CliDeps } from '../deps.js';
import type { ExitCode } from '../exit-codes.js';
import { examples } from '../help-text.js';
import { parseAge } from './cache-age.js';
import type { CacheTargetFlags } from './cache-open.js';

const WHERE_HELP = `
The store: --store s3://BUCKET/PREFIX, or the store.url of the recipe given (which also
names its server: the recipe's publish settings, eucarc variables or the AWS chain, as
apply uses). Without a recipe the server is chosen like the publishing commands': --cloud
local (default unless EC2_URL is set) with --data-dir, or --cloud eucalyptus|aws with
--s3-url or S3_URL and EC2_ACCESS_KEY/EC2_SECRET_KEY or the AWS credential chain.`;

function addWhereOptions(command: Command): Command {
  return command
    .argument('[recipe]', 'a recipe whose store.url (and publish settings) name the store')
    .option('--store <s3-url>', "the shared store (overrides the recipe's store.url)")
    .addOption(
      new Option('--cloud <kind>', 'without a recipe: local, eucalyptus or aws').choices([
        'local',
        'eucalyptus',
        'aws',
      ]),
    )
    .option('--data-dir <dir>', "without a recipe: the local cloud's data directory")
    .option('--s3-url <url>', 'without a recipe: object storage endpoint (default $S3_URL)')
    .option('--region <name>', 'without a recipe: region used in signatures')
    .option('--json', 'print as JSON', false);
}

/** `cache`: the step cache of a shared store. */
export function registerCacheCommands(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const cache = program
    .command('cache')
    .description('list or prune the step cache of a shared store (store.url or --store)')
    .addHelpText(
      'after',
      examples(
        'emi-recipe cache ls --store s3://emi-state/ci',
        'emi-recipe cache prune recipe.yaml --older-than 30d --dry-run',
      ),
    );
  addWhereOptions(
    cache
      .command('ls')
      .description(
        'one line per cache entry (fingerprint, step kind, recipe, created, age, stored bytes of its blobs), the blobs no entry names, and totals',
      ),
  )
    .addHelpText(
      'after',
      `${examples(
        'emi-recipe cache ls --store s3://emi-state/ci',
        'emi-recipe cache ls recipes/debian-minimal.yaml          # its store.url',
        'emi-recipe cache ls --store s3://emi-state/ci --json | jq .totals',
      )}${WHERE_HELP}\n`,
    )
    .action(async (recipe: string | undefined, options: CacheTargetFlags & { json: boolean }) => {
      const { runCacheLs } = await import('./cache-ls.js');
      result.code = await runCacheLs(recipe, options, deps);
    });
  addWhereOptions(
    cache
      .command('prune')
      .description(
        "remove cache entries made before --older-than, then the blobs no remaining entry and no recipe's state names (written before it too)",
      )
      .requiredOption(
        '--older-than <duration>',
        'remove what was made longer ago than this: 30d, 12h, 90m, 1d12h',
        parseAge,
      )
      .option('--dry-run', 'print what would be removed; delete nothing', false),
  )
    .addHelpText(
      'after',
      `${examples(
        'emi-recipe cache prune --store s3://emi-state/ci --older-than 30d --dry-run',
        'emi-recipe cache prune --store s3://emi-state/ci --older-than 30d',
        'emi-recipe cache prune recipes/debian-minimal.yaml --older-than 12h --json',
      )}
A blob is removed only when no remaining entry and no recipe's state below the prefix
names it, and it was itself written before the cutoff: an apply uploading right now (its
entry is written after its blobs) is left alone. Safe to run while applies run; see
docs/ci.md for the one case that costs a rebuild. Exit 1 when a deletion failed.
${WHERE_HELP}\n`,
    )
    .action(
      async (
        recipe: string | undefined,
        options: CacheTargetFlags & { olderThan: number; dryRun: boolean; json: boolean },
      ) => {
        const { runCachePrune } = await import('./cache-prune.js');
        result.code = await runCachePrune(recipe, options, deps);
      },
    );
}
