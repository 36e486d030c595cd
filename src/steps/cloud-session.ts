// The publishing target of one apply, opened on first use through the one target opener
// (local-cloud/publish-target.ts) and closed at the end. Steps ask it for a connection
// and, for bundling, for the identity (account, certificates, key). It holds the settings
// the CLI derived from the recipe, never the recipe itself.
import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';
import type { CloudConnection } from '../cloud/connect.js';
import { endpointLabel } from '../cloud/target.js';
import {
  describeOpenTargetFailure,
  openPublishTarget,
  type PublishTarget,
} from '../local-cloud/publish-target.js';
import type { StepFailure } from '../plan/step.js';
import type { PublishTargetParams } from '../plan/step-params.js';

/** The account and keys that bundles are made with. */
export interface BundleIdentity {
  readonly account: string;
  readonly userCertPem: string;
  /** Signs the manifests. */
  readonly userKeyPem: string;
  /** The image key is encrypted for this certificate. */
  readonly cloudCertPem: string;
}

/**
 * Where a real cloud's bundle identity comes from (the recipe's `bundle` keys with the
 * eucarc fallbacks applied); null: not given. Unused for the local cloud, which has its own.
 */
export interface IdentityFiles {
  readonly account: string | null;
  readonly certPath: string | null;
  readonly privateKeyPath: string | null;
  readonly cloudCertPath: string | null;
}

/**
 * What the publishing steps need besides their params, derived once from the recipe by
 * the CLI (cli/step-kind-options.ts). `target` equals the `target` of every publishing
 * step's params.
 */
export interface PublishSettings {
  readonly target: PublishTargetParams;
  /** The secret of `target.accessKeyId`; never logged, planned or stored. */
  readonly secretKey: string | null;
  /** The embedded cloud's data dir (local-cloud/publish-target.ts localCloudDataDir). */
  readonly localDataDir: string;
  readonly identity: IdentityFiles;
}

/** One sentence naming where bundles go, for plans: "local cloud" or the S3 endpoint. */
export function targetLabel(target: PublishTargetParams, service: 'ec2' | 's3'): string {
  if (target.cloud === 'local') return 'local cloud';
  const url = service === 'ec2' ? target.ec2Endpoint : target.s3Endpoint;
  return (
    url ??
    (target.cloud === 'aws'
      ? `AWS ${service.toUpperCase()} ${target.region}`
      : `${service} endpoint from eucarc`)
  );
}

export class CloudSession {
  readonly #settings: PublishSettings;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #opened: Promise<Result<PublishTarget, StepFailure>> | undefined;
  #connection: Promise<Result<CloudConnection, StepFailure>> | undefined;

  constructor(settings: PublishSettings, env: Readonly<Record<string, string | undefined>>) {
    this.#settings = settings;
    this.#env = env;
  }

  get isLocal(): boolean {
    return this.#settings.target.cloud === 'local';
  }

  /** Where a real cloud's bundle identity comes from (pre-flight checks these files). */
  get identityFiles(): IdentityFiles {
    return this.#settings.identity;
  }

  /** The target (and, for local, the embedded cloud), opened once. */
  #open(signal: AbortSignal): Promise<Result<PublishTarget, StepFailure>> {
    this.#opened ??= openPublishTarget({
      target: this.#settings.target,
      ...(this.#settings.secretKey !== null ? { secretKey: this.#settings.secretKey } : {}),
      env: this.#env,
      localDataDir: this.#settings.localDataDir,
      signal,
    }).then((r) =>
      r.ok
        ? ok(r.value)
        : err({
            reason: r.error.reason,
            message: describeOpenTargetFailure(r.error),
          }),
    );
    return this.#opened;
  }

  /** SDK clients for the target; no request is made here. */
  connection(signal: AbortSignal): Promise<Result<CloudConnection, StepFailure>> {
    this.#connection ??= this.#open(signal).then(async (opened) =>
      opened.ok ? ok(await opened.value.connection()) : opened,
    );
    return this.#connection;
  }

  /** A label for messages: the endpoint of `service`. */
  async label(service: 'ec2' | 's3', signal: AbortSignal): Promise<string> {
    const c = await this.connection(signal);
    return c.ok ? endpointLabel(c.value.target, service) : service;
  }

  /**
   * The identity bundles are made with: the local cloud's, or the recipe's files (with
   * the eucarc fallbacks already applied by the recipe loader).
   */
  async identity(signal: AbortSignal): Promise<Result<BundleIdentity, StepFailure>> {
    if (this.isLocal) {
      const opened = await this.#open(signal);
      if (!opened.ok) return opened;
      const c = opened.value.local;
      // openPublishTarget opens the embedded cloud for every `cloud: local` target.
      if (c === undefined) throw new Error('a local target was opened without its local cloud');
      return ok({
        account: c.accountId,
        userCertPem: c.userCertPem,
        userKeyPem: c.userKeyPem,
        cloudCertPem: c.cloudCertPem,
      });
    }
    const b = this.#settings.identity;
    const missing = [
      b.account === null ? 'bundle.account (or EC2_USER_ID)' : undefined,
      b.certPath === null ? 'bundle.cert (or EC2_CERT)' : undefined,
      b.privateKeyPath === null ? 'bundle.privateKey (or EC2_PRIVATE_KEY)' : undefined,
      b.cloudCertPath === null ? 'bundle.cloudCert (or EUCALYPTUS_CERT)' : undefined,
    ].filter((x): x is string => x !== undefined);
    if (
      missing.length > 0 ||
      b.account === null ||
      b.certPath === null ||
      b.privateKeyPath === null ||
      b.cloudCertPath === null
    ) {
      return err({
        reason: 'identity-missing',
        message: `bundling needs ${missing.join(', ')}: set them in the recipe or source your eucarc`,
      });
    }
    const read = async (path: string, what: string): Promise<Result<string, StepFailure>> => {
      try {
        return ok(await readFile(path, 'utf8'));
      } catch (error) {
        return err({
          reason: 'identity-unreadable',
          message: `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        });
      }
    };
    const cert = await read(b.certPath, 'the certificate');
    if (!cert.ok) return cert;
    const key = await read(b.privateKeyPath, 'the private key');
    if (!key.ok) return key;
    const cloudCert = await read(b.cloudCertPath, "the cloud's certificate");
    if (!cloudCert.ok) return cloudCert;
    return ok({
      account: b.account,
      userCertPem: cert.value,
      userKeyPem: key.value,
      cloudCertPem: cloudCert.value,
    });
  }

  /** Closes clients and stops an embedded cloud this session started. */
  async close(): Promise<void> {
    const opened = await this.#opened;
    if (opened?.ok) await opened.value.close();
  }
}
