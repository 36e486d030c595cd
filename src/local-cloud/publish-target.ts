// The one way to open a publishing target, for the CLI's publishing commands and for the
// publishing steps of `apply`: the embedded local cloud (started, or the one `cloud serve`
// runs from the same data dir) or a Eucalyptus/AWS endpoint with its eucarc fallbacks
// (cloud/target.ts), then SDK clients for it. Decides nothing else; prints nothing.
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { CloudConnection } from '../cloud/connect.js';
import {
  resolveCloudTarget,
  type CloudKind,
  type CloudTarget,
  type TargetProblem,
} from '../cloud/target.js';
import {
  describeLocalCloudFailure,
  localCloudTarget,
  openLocalCloud,
  type LocalCloud,
  type LocalCloudFailure,
} from './server.js';

/**
 * The embedded cloud's data directory below `baseDir`: a recipe's folder for `apply`
 * (shared by the recipes in it), the working directory for the standalone commands'
 * default. The one definition; `cloud serve` and `apply` meet here.
 */
export function localCloudDataDir(baseDir: string): string {
  return join(baseDir, '.emi-recipe', 'local-cloud');
}

/**
 * Where to publish, without secrets: the shape of plan/step-params.ts PublishTargetParams
 * (which is assignable to it), or what the command-line flags say. null: not given, so the
 * eucarc variables, then the defaults of the kind, apply (resolveCloudTarget).
 */
export interface TargetDescription {
  readonly cloud: CloudKind;
  readonly ec2Endpoint: string | null;
  readonly s3Endpoint: string | null;
  readonly region: string | null;
  /** With `secretKey`, the key pair; null: EC2_ACCESS_KEY/EC2_SECRET_KEY or the AWS chain. */
  readonly accessKeyId: string | null;
}

export interface OpenTargetOptions {
  readonly target: TargetDescription;
  /** The secret of `target.accessKeyId`. Never logged, never in a failure. */
  readonly secretKey?: string;
  /** eucarc and AWS variables: EC2_URL, S3_URL, EC2_ACCESS_KEY, EC2_SECRET_KEY, AWS_REGION. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The embedded cloud's data directory (localCloudDataDir); used for `cloud: local` only. */
  readonly localDataDir: string;
  /** Where the description came from, for the names of settings in problems (default recipe). */
  readonly origin?: 'recipe' | 'command-line';
  readonly signal: AbortSignal;
}

/** An open target. close() releases what opening took (clients, an embedded cloud it started). */
export interface PublishTarget {
  readonly target: CloudTarget;
  /** The embedded cloud for `cloud: local`: its account and keys are the ones bundles use. */
  readonly local?: LocalCloud;
  /**
   * SDK clients for the target, made on the first call (the AWS SDK takes ~0.4 s to load:
   * only work that talks to the cloud pays for it). No request is made here.
   */
  connection(): Promise<CloudConnection>;
  close(): Promise<void>;
}

/** Why a target cannot be opened: a setting is wrong or missing, or the embedded cloud did not start. */
export type OpenTargetFailure =
  TargetProblem | { readonly reason: 'local-cloud'; readonly failure: LocalCloudFailure };

function targetOf(options: OpenTargetOptions): Result<CloudTarget | 'local', TargetProblem> {
  const t = options.target;
  if (t.cloud === 'local') return ok('local');
  const credentialsSetting =
    options.origin === 'command-line' ? 'EC2_SECRET_KEY' : 'publish.credentials.secretKey';
  if (t.accessKeyId !== null && (options.secretKey ?? '') === '')
    return err({
      reason: 'target-invalid',
      setting: credentialsSetting,
      problem: `the access key id ${t.accessKeyId} is given without its secret key: export EC2_SECRET_KEY`,
    });
  return resolveCloudTarget({
    cloud: t.cloud,
    endpoints: {
      ...(t.ec2Endpoint !== null ? { ec2: t.ec2Endpoint } : {}),
      ...(t.s3Endpoint !== null ? { s3: t.s3Endpoint } : {}),
    },
    ...(t.region !== null ? { region: t.region } : {}),
    ...(t.accessKeyId !== null && options.secretKey !== undefined
      ? { credentials: { accessKey: t.accessKeyId, secretKey: options.secretKey } }
      : {}),
    env: options.env,
    origin: options.origin ?? 'recipe',
  });
}

/**
 * Opens the target `options` describe: for `local`, the embedded cloud of
 * `options.localDataDir` (shared with a `cloud serve` of the same dir); else the
 * endpoints and credentials with their eucarc fallbacks. Fails, before any request, on a
 * missing or malformed setting or an embedded cloud that cannot start.
 */
export async function openPublishTarget(
  options: OpenTargetOptions,
): Promise<Result<PublishTarget, OpenTargetFailure>> {
  const resolved = targetOf(options);
  if (!resolved.ok) return resolved;
  let local: LocalCloud | undefined;
  let target: CloudTarget;
  if (resolved.value === 'local') {
    const opened = await openLocalCloud({ dataDir: options.localDataDir, signal: options.signal });
    if (!opened.ok) return err({ reason: 'local-cloud', failure: opened.error });
    local = opened.value;
    target = localCloudTarget(local);
  } else target = resolved.value;
  let connection: Promise<CloudConnection> | undefined;
  return ok({
    target,
    ...(local !== undefined ? { local } : {}),
    connection: () =>
      (connection ??= import('../cloud/connect.js').then(({ connectCloud }) =>
        connectCloud(target),
      )),
    close: async () => {
      if (connection !== undefined) (await connection).destroy();
      await local?.close();
    },
  });
}

/** One sentence for an OpenTargetFailure: the setting and what to do, or why the local cloud did not start. */
export function describeOpenTargetFailure(failure: OpenTargetFailure): string {
  return failure.reason === 'target-invalid'
    ? `${failure.setting}: ${failure.problem}`
    : `the local cloud could not start: ${describeLocalCloudFailure(failure.failure)}`;
}
