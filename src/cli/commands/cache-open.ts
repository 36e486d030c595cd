// Which store `cache ls|prune` read, and how they reach it: `--store` over a recipe's
// store.url; with a recipe, its publishing target's endpoint and credentials (as apply
// does); without one, the publishing commands' flags and the eucarc/AWS variables. Also
// the `--older-than` duration. Opens the connection; decides nothing about the cache.
import { describeCloudFailure } from '../../cloud/aws-errors.js';
import { sdkObjectListing } from '../../cloud/object-listing.js';
import { endpointLabel } from '../../cloud/target.js';
import { parseS3Url, type S3Url } from '../../core/s3-url.js';
import {
  describeOpenTargetFailure,
  localCloudDataDir,
  openPublishTarget,
  type OpenTargetOptions,
} from '../../local-cloud/publish-target.js';
import { textReader, type CacheIo } from '../../store/cache-prune-inventory.js';
import type { CliDeps } from '../deps.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { publishTargetParams } from '../step-kind-options.js';
import { DEFAULT_LOCAL_DATA_DIR } from './publish.js';
import { commandLineTarget, type TargetFlags } from './publish-run.js';
import { hasErrors } from '../../core/diagnostic.js';
import { loadRecipe } from '../../recipe/load-recipe.js';
import type { Recipe } from '../../recipe/model.js';
import { formatDiagnostics } from '../output/diagnostic-printer.js';

/** What `cache ls|prune` take besides their own options. */
export interface CacheTargetFlags extends Omit<TargetFlags, 'dataDir'> {
  readonly store?: string;
  readonly dataDir?: string;
}

/** The flags that name a server without a recipe. */
const TARGET_FLAGS = {
  cloud: '--cloud',
  dataDir: '--data-dir',
  ec2Url: '--ec2-url',
  s3Url: '--s3-url',
  region: '--region',
} as const;

/** An open store for the cache commands: where, the requests, and what to close. */
export interface OpenCache {
  readonly io: CacheIo;
  /** `s3://bucket/prefix (endpoint)`, for messages. */
  readonly label: string;
  readonly close: () => Promise<void>;
}

type Opened = { cache: OpenCache; exit?: undefined } | { cache?: undefined; exit: ExitCode };

/** Resolves the store and its server, prints why not, and opens it. */
export async function openCache(
  recipeFile: string | undefined,
  flags: CacheTargetFlags,
  deps: CliDeps,
): Promise<Opened> {
  const fail = (message: string, exit: ExitCode = EXIT.usage): Opened => {
    deps.terminal.err(`error: ${message}\n`);
    return { exit };
  };
  let url = flags.store;
  let origin = '--store';
  let target: Omit<OpenTargetOptions, 'signal'>;
  if (recipeFile !== undefined) {
    const given = Object.entries(TARGET_FLAGS)
      .filter(([k]) => flags[k as keyof typeof TARGET_FLAGS] !== undefined)
      .map(([, flag]) => flag);
    if (given.length > 0)
      return fail(
        `${given.join(', ')}: not with a recipe, whose publish settings name the store's server; drop the recipe (and give --store) or the flag`,
      );
    const recipe = await readRecipe(recipeFile, deps);
    if (!recipe) return { exit: EXIT.usage };
    if (url === undefined && recipe.store.url !== undefined) {
      url = recipe.store.url;
      origin = 'store.url';
    }
    if (url === undefined)
      return fail(
        `${recipeFile} has no store.url, so its state and cache are in its work directory: give the shared store with --store s3://BUCKET/PREFIX`,
      );
    const secretKey = recipe.publish.credentials?.secretKey;
    target = {
      target: publishTargetParams(recipe),
      ...(secretKey !== undefined ? { secretKey } : {}),
      env: deps.env,
      localDataDir: localCloudDataDir(recipe.dir),
    };
  } else {
    if (url === undefined)
      return fail(
        'which store? Give --store s3://BUCKET/PREFIX, or a recipe whose store.url names it',
      );
    target = commandLineTarget(flags, deps.env, DEFAULT_LOCAL_DATA_DIR);
  }
  const parsed = parseS3Url(url);
  if (!parsed.ok) return fail(`${origin}: ${parsed.error}`);
  const store: S3Url = parsed.value;
  const opened = await openPublishTarget({ ...target, signal: deps.signal });
  if (!opened.ok)
    return fail(
      `the store ${store.url} is on the publishing target, which cannot be opened: ${describeOpenTargetFailure(opened.error)}`,
      opened.error.reason === 'target-invalid' ? EXIT.usage : EXIT.failure,
    );
  const connection = await opened.value.connection();
  const server = endpointLabel(connection.target, 's3');
  return {
    cache: {
      io: {
        store,
        listing: sdkObjectListing(connection.clients.s3, server, store.bucket),
        read: textReader((key, signal) => connection.store.getObject(store.bucket, key, signal)),
        signal: deps.signal,
      },
      label: `${store.url} (${server})`,
      close: () => opened.value.close(),
    },
  };
}

/**
 * The recipe, for its store.url and publishing target only (no graph, no work directory:
 * a broken work directory does not stop `cache ls`); its problems printed as validate does.
 */
async function readRecipe(recipeFile: string, deps: CliDeps): Promise<Recipe | undefined> {
  const loaded = await loadRecipe(recipeFile, { env: deps.env, strictInputs: false });
  if (!loaded.ok) {
    deps.terminal.err(
      `error: cannot read recipe '${recipeFile}': ${loaded.error.code === 'ENOENT' ? 'no such file' : loaded.error.code}\n`,
    );
    return undefined;
  }
  const { diagnostics, text, recipe } = loaded.value;
  if (diagnostics.length > 0)
    deps.terminal.err(
      formatDiagnostics(diagnostics, {
        sources: new Map([[recipeFile, text]]),
        color: deps.terminal.color,
      }),
    );
  if (recipe && !hasErrors(diagnostics)) return recipe;
  deps.terminal.err(
    `${recipeFile}: invalid recipe; fix the errors above (emi-recipe validate ${recipeFile})\n`,
  );
  return undefined;
}

/** A cloud failure's message with what to do; exit 130 when it was Ctrl-C. */
export function cacheCloudFailure(
  deps: CliDeps,
  label: string,
  failure: Parameters<typeof describeCloudFailure>[0],
): ExitCode {
  if (deps.signal.aborted || failure.reason === 'canceled') {
    deps.terminal.err('Interrupted.\n');
    return EXIT.interrupted;
  }
  deps.terminal.err(
    `error: reading the cache of ${label}: ${describeCloudFailure(failure)}\nNothing more was done; run the same command again once the store can be reached.\n`,
  );
  return EXIT.failure;
}
