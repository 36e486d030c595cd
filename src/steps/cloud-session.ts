// The publishing target of one apply: for `cloud: local` the embedded cloud (opened on
// first use, closed at the end), else the recipe's endpoints and credentials. Steps ask it
// for a connection and, for bundling, for the identity (account, certificates, key).
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { CloudConnection } from '../cloud/connect.js';
import { endpointLabel, resolveCloudTarget } from '../cloud/target.js';
import {
  describeLocalCloudFailure,
  localCloudTarget,
  openLocalCloud,
  type LocalCloud,
} from '../local-cloud/server.js';
import type { Recipe } from '../recipe/model.js';
import type { StepFailure } from '../plan/step.js';
import type { PublishTargetParams } from '../plan/step-params.js';
import { stepFailure } from '../plan/step-failure.js';

/** The account and keys that bundles are made with. */
export interface BundleIdentity {
  readonly account: string;
  readonly userCertPem: string;
  /** Signs the manifests. */
  readonly userKeyPem: string;
  /** The image key is encrypted for this certificate. */
  readonly cloudCertPem: string;
}

/** Where the embedded cloud of a recipe keeps its data: shared by recipes in one folder. */
export function localCloudDataDir(recipePath: string): string {
  return join(dirname(recipePath), '.emi-recipe', 'local-cloud');
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
  readonly #recipe: Recipe;
  readonly #env: Readonly<Record<string, string | undefined>>;
  #local: Promise<Result<LocalCloud, StepFailure>> | undefined;
  #connection: Promise<Result<CloudConnection, StepFailure>> | undefined;

  constructor(recipe: Recipe, env: Readonly<Record<string, string | undefined>>) {
    this.#recipe = recipe;
    this.#env = env;
  }

  get isLocal(): boolean {
    return this.#recipe.publish.cloud === 'local';
  }

  /** The embedded cloud (local recipes only), opened once. */
  #openLocal(signal: AbortSignal): Promise<Result<LocalCloud, StepFailure>> {
    this.#local ??= openLocalCloud({ dataDir: localCloudDataDir(this.#recipe.path), signal }).then(
      (r) =>
        r.ok
          ? ok(r.value)
          : err(
              stepFailure(
                'cloud',
                'local-cloud',
                `the local cloud could not start: ${describeLocalCloudFailure(r.error)}`,
              ),
            ),
    );
    return this.#local;
  }

  /** SDK clients for the target; no request is made here. */
  connection(signal: AbortSignal): Promise<Result<CloudConnection, StepFailure>> {
    this.#connection ??= (async (): Promise<Result<CloudConnection, StepFailure>> => {
      // The AWS SDK takes ~0.4 s to load: only runs that publish pay for it.
      const { connectCloud } = await import('../cloud/connect.js');
      if (this.isLocal) {
        const local = await this.#openLocal(signal);
        return local.ok ? ok(connectCloud(localCloudTarget(local.value))) : local;
      }
      const publish = this.#recipe.publish;
      const target = resolveCloudTarget({
        cloud: publish.cloud,
        endpoints: publish.endpoints,
        region: publish.region,
        ...(publish.credentials ? { credentials: publish.credentials } : {}),
        env: this.#env,
      });
      if (!target.ok)
        return err(
          stepFailure(
            'input',
            'target-invalid',
            `${target.error.setting}: ${target.error.problem}`,
          ),
        );
      return ok(connectCloud(target.value));
    })();
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
      const local = await this.#openLocal(signal);
      if (!local.ok) return local;
      const c = local.value;
      return ok({
        account: c.accountId,
        userCertPem: c.userCertPem,
        userKeyPem: c.userKeyPem,
        cloudCertPem: c.cloudCertPem,
      });
    }
    const b = this.#recipe.bundle;
    const missing = [
      b.account === undefined ? 'bundle.account (or EC2_USER_ID)' : undefined,
      b.cert === undefined ? 'bundle.cert (or EC2_CERT)' : undefined,
      b.privateKey === undefined ? 'bundle.privateKey (or EC2_PRIVATE_KEY)' : undefined,
      b.cloudCert === undefined ? 'bundle.cloudCert (or EUCALYPTUS_CERT)' : undefined,
    ].filter((x): x is string => x !== undefined);
    if (missing.length > 0 || !b.account || !b.cert || !b.privateKey || !b.cloudCert) {
      return err(
        stepFailure(
          'input',
          'identity-missing',
          `bundling needs ${missing.join(', ')}: set them in the recipe or source your eucarc`,
        ),
      );
    }
    const read = async (path: string, what: string): Promise<Result<string, StepFailure>> => {
      try {
        return ok(await readFile(path, 'utf8'));
      } catch (error) {
        // A missing or unreadable file (ENOENT, EACCES, EISDIR…); anything else is a bug.
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        if (typeof code !== 'string') throw error;
        return err(
          stepFailure('input', 'identity-unreadable', `cannot read ${what} ${path}: ${code}`, {
            path,
          }),
        );
      }
    };
    const cert = await read(b.cert.path, 'the certificate');
    if (!cert.ok) return cert;
    const key = await read(b.privateKey.path, 'the private key');
    if (!key.ok) return key;
    const cloudCert = await read(b.cloudCert.path, "the cloud's certificate");
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
    const connection = await this.#connection;
    if (connection?.ok) connection.value.destroy();
    const local = await this.#local;
    if (local?.ok) await local.value.close();
  }
}
