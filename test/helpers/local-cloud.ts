// Starting the embedded local cloud in tests, seeded with the golden keys and account so
// that the euca2ools golden bundles register; clients and ports for it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  createCloudClients,
  type ClientOptions,
  type CloudClients,
} from '../../src/cloud/clients.js';
import { sdkImageRegistry, type ImageRegistryPort } from '../../src/cloud/image-registry.js';
import { sdkObjectStore, type ObjectStorePort } from '../../src/cloud/object-store.js';
import type { CloudTarget } from '../../src/cloud/target.js';
import {
  localCloudTarget,
  startLocalCloud,
  type LocalCloud,
  type StartLocalCloudOptions,
} from '../../src/local-cloud/server.js';
import { goldenKey } from './golden.js';
import { repoPath } from './paths.js';
import { scrubbedEnv } from './run-cli.js';

export const GOLDEN_ACCOUNT = '123456789012';

export interface TestCloud {
  readonly cloud: LocalCloud;
  readonly dataDir: string;
  readonly target: CloudTarget;
  readonly clients: CloudClients;
  readonly store: ObjectStorePort;
  readonly registry: ImageRegistryPort;
  /** Closes clients and the server; removes the data dir unless `keep`. */
  readonly stop: (keep?: boolean) => Promise<void>;
}

/** A golden-seeded local cloud in a fresh temp dir (or `dataDir`). */
export async function startTestCloud(
  options: Partial<StartLocalCloudOptions> & { clientOptions?: ClientOptions } = {},
): Promise<TestCloud> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'emi-local-cloud-')));
  const started = await startLocalCloud({
    seed: {
      accountId: GOLDEN_ACCOUNT,
      userKeyPem: goldenKey('user-key'),
      userCertPem: goldenKey('user-cert'),
      cloudKeyPem: goldenKey('cloud-key'),
      cloudCertPem: goldenKey('cloud-cert'),
    },
    ...options,
    dataDir,
  });
  if (!started.ok) throw new Error(`local cloud did not start: ${JSON.stringify(started.error)}`);
  const cloud = started.value;
  const target = localCloudTarget(cloud);
  const clients = createCloudClients(target, options.clientOptions ?? {});
  return {
    cloud,
    dataDir,
    target,
    clients,
    store: sdkObjectStore(clients.s3, cloud.endpoints.s3),
    registry: sdkImageRegistry(clients.ec2, cloud.endpoints.ec2),
    stop: async (keep = false) => {
      clients.destroy();
      await cloud.close();
      if (!keep) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Debian's awscli (not a pyenv shim), as an independent S3 client. */
export const AWS_CLI = '/usr/bin/aws';

/** Runs `/usr/bin/aws ARGS` against the cloud's S3 root with its key pair. */
export function runAwsCli(
  cloud: LocalCloud,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(AWS_CLI, ['--endpoint-url', `http://127.0.0.1:${cloud.port}`, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        AWS_ACCESS_KEY_ID: cloud.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: cloud.credentials.secretAccessKey,
        AWS_DEFAULT_REGION: cloud.region,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/**
 * Runs the built CLI without blocking this process (the local cloud under test may be
 * served by it), with a scrubbed env plus `env`.
 */
export function runCliAsync(
  args: readonly string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    signalAfterMs?: number;
    /**
     * Once stdout matches `pattern` (a server saying it is ready), run `then` and send
     * SIGINT when it settles: a readiness barrier instead of a guessed sleep.
     */
    interruptOnceReady?: { pattern: RegExp; then: () => Promise<void> };
  } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [repoPath('bin', 'emi-recipe.js'), ...args], {
      cwd: options.cwd ?? repoPath(),
      env: scrubbedEnv(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ready = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const onReady = options.interruptOnceReady;
      if (onReady === undefined || ready || !onReady.pattern.test(stdout)) return;
      ready = true;
      void onReady.then().finally(() => child.kill('SIGINT'));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (options.signalAfterMs !== undefined) {
      setTimeout(() => child.kill('SIGINT'), options.signalAfterMs);
    }
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}
