// Where to publish and as whom: endpoints, region and credentials from the recipe, then the
// classic eucarc variables, then the AWS default chain. Secrets stay inside a closure: a
// CloudTarget can be logged, planned or JSON-serialised without revealing one.
import { err, ok, type Result } from '../core/result.js';

export type CloudKind = 'local' | 'eucalyptus' | 'aws';

/** Where a setting came from, for plans and messages ("EC2_URL", "recipe"). */
export type SettingSource = 'recipe' | 'eucarc' | 'aws-default' | 'local-cloud' | 'command-line';

/** The key pair as the SDK wants it. */
export interface CloudCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A function so that JSON.stringify and util.inspect never print the secret. */
export type CredentialsProvider = () => Promise<CloudCredentials>;

export interface CloudTarget {
  readonly cloud: CloudKind;
  /** Undefined for `aws` without an explicit endpoint: the SDK's regional default. */
  readonly endpoints: { readonly ec2?: string; readonly s3?: string };
  readonly region: string;
  /**
   * True for Amazon's own endpoints. Everything else (Eucalyptus, the local cloud) gets
   * path-style addressing and checksums only when required (see clients.ts).
   */
  readonly isAws: boolean;
  /** Undefined: the AWS default chain (env AWS_*, ~/.aws, instance role) decides. */
  readonly credentials?: CredentialsProvider;
  /** Shown in plans and messages; never the secret. */
  readonly accessKeyId?: string;
  readonly sources: {
    readonly ec2: SettingSource;
    readonly s3: SettingSource;
    readonly credentials: SettingSource;
  };
}

export interface ResolveTargetOptions {
  readonly cloud: CloudKind;
  /** Recipe (or command-line) values; each falls back to EC2_URL / S3_URL. */
  readonly endpoints?: { readonly ec2?: string; readonly s3?: string };
  /**
   * Where `endpoints`, `region` and `credentials` were given (default `recipe`): names the
   * settings in problems (`publish.endpoints.ec2` or `--ec2-url`) and in `sources`.
   */
  readonly origin?: 'recipe' | 'command-line';
  readonly region?: string;
  readonly credentials?: { readonly accessKey: string; readonly secretKey: string };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What makes a target unusable before any request is made. */
export interface TargetProblem {
  readonly reason: 'target-invalid';
  /** The setting concerned: `publish.endpoints.ec2`, `EC2_SECRET_KEY`… */
  readonly setting: string;
  readonly problem: string;
}

/** Wraps a key pair in a provider; the secret is reachable only by calling it. */
export function staticCredentials(
  accessKeyId: string,
  secretAccessKey: string,
): CredentialsProvider {
  const value: CloudCredentials = Object.freeze({ accessKeyId, secretAccessKey });
  return () => Promise.resolve(value);
}

/** True for Amazon's endpoints (`*.amazonaws.com`, `*.amazonaws.com.cn`). */
export function isAwsEndpoint(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
  } catch {
    return false;
  }
}

function checkUrl(url: string, setting: string): TargetProblem | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      return {
        reason: 'target-invalid',
        setting,
        problem: `expected an http:// or https:// URL, got '${url}'`,
      };
    return undefined;
  } catch {
    return {
      reason: 'target-invalid',
      setting,
      problem: `expected a URL such as http://cloud:8773/services/compute, got '${url}'`,
    };
  }
}

/**
 * Resolves a `eucalyptus` or `aws` target. Order, per setting: the given value, then the
 * eucarc variable (EC2_URL, S3_URL, EC2_ACCESS_KEY + EC2_SECRET_KEY), then (aws only, or
 * for credentials) the AWS default chain. Fails when Eucalyptus endpoints are missing,
 * a URL is malformed, or only half of a key pair is given. For `local`, use
 * localCloudTarget (local-cloud/server.ts) instead: this refuses it.
 */
export function resolveCloudTarget(
  options: ResolveTargetOptions,
): Result<CloudTarget, TargetProblem> {
  const { env } = options;
  const origin = options.origin ?? 'recipe';
  const settingOf = (name: 'ec2' | 's3'): string =>
    origin === 'recipe' ? `publish.endpoints.${name}` : `--${name}-url`;
  if (options.cloud === 'local') {
    return err({
      reason: 'target-invalid',
      setting: 'publish.cloud',
      problem: "the local cloud's endpoints come from the running local cloud (startLocalCloud)",
    });
  }
  const pick = (
    given: string | undefined,
    variable: 'EC2_URL' | 'S3_URL',
  ): { value?: string; source: SettingSource } => {
    if (given !== undefined && given !== '') return { value: given, source: origin };
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: 'eucarc' };
    return { source: 'aws-default' };
  };
  const ec2 = pick(options.endpoints?.ec2, 'EC2_URL');
  const s3 = pick(options.endpoints?.s3, 'S3_URL');
  for (const [name, value, variable] of [
    ['ec2', ec2.value, 'EC2_URL'],
    ['s3', s3.value, 'S3_URL'],
  ] as const) {
    if (value === undefined) {
      if (options.cloud === 'eucalyptus')
        return err({
          reason: 'target-invalid',
          setting: settingOf(name),
          problem: `not set: give ${settingOf(name)} or export ${variable} (source your eucarc)`,
        });
      continue;
    }
    const problem = checkUrl(value, settingOf(name));
    if (problem) return err(problem);
  }
  let credentials: CredentialsProvider | undefined;
  let accessKeyId: string | undefined;
  let credentialSource: SettingSource = 'aws-default';
  if (options.credentials !== undefined) {
    accessKeyId = options.credentials.accessKey;
    credentials = staticCredentials(options.credentials.accessKey, options.credentials.secretKey);
    credentialSource = origin;
  } else {
    const id = env.EC2_ACCESS_KEY;
    const secret = env.EC2_SECRET_KEY;
    if ((id ?? '') !== '' && (secret ?? '') !== '') {
      accessKeyId = id;
      credentials = staticCredentials(id ?? '', secret ?? '');
      credentialSource = 'eucarc';
    } else if ((id ?? '') !== '' || (secret ?? '') !== '') {
      return err({
        reason: 'target-invalid',
        setting: (id ?? '') === '' ? 'EC2_ACCESS_KEY' : 'EC2_SECRET_KEY',
        problem:
          'only half of the eucarc key pair is set: export both EC2_ACCESS_KEY and EC2_SECRET_KEY',
      });
    }
  }
  const isAws =
    options.cloud === 'aws' &&
    (ec2.value === undefined || isAwsEndpoint(ec2.value)) &&
    (s3.value === undefined || isAwsEndpoint(s3.value));
  const region =
    options.region ??
    (options.cloud === 'aws'
      ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1')
      : 'eucalyptus');
  return ok({
    cloud: options.cloud,
    endpoints: {
      ...(ec2.value !== undefined ? { ec2: ec2.value } : {}),
      ...(s3.value !== undefined ? { s3: s3.value } : {}),
    },
    region,
    isAws,
    ...(credentials !== undefined ? { credentials } : {}),
    ...(accessKeyId !== undefined ? { accessKeyId } : {}),
    sources: { ec2: ec2.source, s3: s3.source, credentials: credentialSource },
  });
}

/** The endpoint as shown in messages: the URL, or `(AWS default for REGION)`. */
export function endpointLabel(target: CloudTarget, service: 'ec2' | 's3'): string {
  return target.endpoints[service] ?? `(AWS default ${service} endpoint for ${target.region})`;
}
