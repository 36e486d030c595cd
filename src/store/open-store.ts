// Opens a recipe's store: the work directory (the default), or an S3 prefix reached with
// the recipe's publishing endpoint and credentials, resolved exactly as for publishing
// (local-cloud/publish-target.ts: the embedded cloud, eucarc, the AWS chain). Before an
// apply takes a remote lock, the server is probed once for conditional writes (the probe
// is cloud/conditional-writes.ts's).
import { err, ok, type Result } from '../core/result.js';
import { unreachable } from '../core/unreachable.js';
import {
  describeOpenTargetFailure,
  openPublishTarget,
  type TargetDescription,
} from '../local-cloud/publish-target.js';
import { endpointLabel } from '../cloud/target.js';
import { describeCloudFailure } from '../cloud/aws-errors.js';
import { probeConditionalWrites, type SecondCreate } from '../cloud/conditional-writes.js';
import type { RecipeStore, StoreFailure } from '../run/store.js';
import { localRecipeStore } from './local-store.js';
import { s3RecipeStore } from './s3-store.js';
import { sdkCasObjects } from './sdk-cas-objects.js';
import { s3StepCache } from './s3-step-cache.js';
import { sdkBlobObjects } from '../cloud/blob-objects.js';
import { fileSeenMemo } from './seen-memo.js';
import { parseS3Url } from '../core/s3-url.js';

export interface OpenStoreOptions {
  /** `s3://bucket/prefix`, or undefined for the work directory. */
  readonly url: string | undefined;
  /** Where the url came from, for messages: `--store` or the recipe's `store.url`. */
  readonly origin: string;
  readonly workDir: string;
  readonly recipe: { readonly name: string; readonly file: string };
  /** The recipe's publishing target: the store's server and credentials are the same. */
  readonly target: TargetDescription;
  readonly secretKey?: string;
  readonly localDataDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * apply: the store is written (the bucket is created if missing, the work directory's
   * memo of the store is kept) and, with `locking`, probed for conditional writes.
   */
  readonly forWrite: boolean;
  /** False with --no-lock. */
  readonly locking: boolean;
  /** The step kinds whose outputs the store's step cache keeps (none: no cache). */
  readonly cachedKinds?: ReadonlySet<string>;
  readonly signal: AbortSignal;
}

/** The store `options.url` names, opened and (for apply with locking) probed. */
export async function openRecipeStore(
  options: OpenStoreOptions,
): Promise<Result<RecipeStore, StoreFailure>> {
  if (options.url === undefined) return ok(localRecipeStore(options.workDir, options.recipe.file));
  const parsed = parseS3Url(options.url);
  if (!parsed.ok)
    return err({
      reason: 'store-config',
      url: options.url,
      problem: `${options.origin}: ${parsed.error}`,
    });
  const store = parsed.value;
  const opened = await openPublishTarget({
    target: options.target,
    ...(options.secretKey !== undefined ? { secretKey: options.secretKey } : {}),
    env: options.env,
    localDataDir: options.localDataDir,
    signal: options.signal,
  });
  if (!opened.ok)
    return err({
      reason: 'store-config',
      url: store.url,
      problem: `its server is the publishing target, which cannot be opened: ${describeOpenTargetFailure(opened.error)}`,
    });
  const target = opened.value;
  const fail = async (failure: StoreFailure): Promise<Result<RecipeStore, StoreFailure>> => {
    await target.close();
    return err(failure);
  };
  const connection = await target.connection();
  const server = endpointLabel(connection.target, 's3');
  if (options.forWrite) {
    // Like publishing: the bucket is made when missing (and must be ours when it exists).
    const made = await connection.store.createBucket(store.bucket, options.signal);
    if (!made.ok)
      return fail({
        reason: 'store-unreachable',
        url: store.url,
        detail: describeCloudFailure(made.error),
      });
  }
  const objects = sdkCasObjects(connection.clients.s3, store.bucket, server);
  if (options.forWrite && options.locking) {
    // Once per store and process, before the lock is taken (cloud/conditional-writes.ts).
    const probe = await probeConditionalWrites(connection.clients.s3, {
      bucket: store.bucket,
      prefix: store.prefix === '' ? '' : `${store.prefix}/`,
      endpoint: server,
      signal: options.signal,
    });
    if (!probe.ok)
      return fail({
        reason: 'store-unreachable',
        url: store.url,
        detail: describeCloudFailure(probe.error),
      });
    if (!probe.value.honoured)
      return fail({
        reason: 'no-conditional-writes',
        url: store.url,
        server,
        found: secondCreateText(probe.value.secondCreate),
      });
  }
  return ok(
    s3RecipeStore({
      objects,
      store,
      recipeName: options.recipe.name,
      memo: fileSeenMemo(options.workDir, options.forWrite),
      locking: options.locking,
      signal: options.signal,
      onClose: () => target.close(),
      ...(options.cachedKinds !== undefined && options.cachedKinds.size > 0
        ? {
            cache: s3StepCache({
              objects,
              blobs: sdkBlobObjects(connection.clients.s3, server, store.bucket),
              store,
              recipe: options.recipe.name,
              kinds: options.cachedKinds,
            }),
          }
        : {}),
    }),
  );
}

/** What the probe's second `If-None-Match: *` create got, for the refusal. */
function secondCreateText(second: SecondCreate): string {
  switch (second.kind) {
    case 'overwrote':
      return 'a second create of the same key with If-None-Match: * overwrote it';
    case 'rejected-header':
      return `a create with If-None-Match: * was answered ${[second.httpStatus !== undefined ? `HTTP ${String(second.httpStatus)}` : undefined, second.code].filter((x) => x !== undefined).join(' ')}`;
    case 'refused':
      return 'it refused a second create (412)';
    default:
      return unreachable(second);
  }
}
