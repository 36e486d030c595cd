// The embedded local cloud: one HTTP server on 127.0.0.1 serving an S3 store and an EC2
// image registry, persisted in a data dir, usable in-process (apply) or standalone
// (`emi-recipe cloud serve`). Paths as on Eucalyptus:
//
//   /services/compute            EC2 Query API (RegisterImage, DescribeImages…)
//   /services/objectstorage/...  S3 (path-style); also served at / for clients such as
//                                s3cmd that cannot put a path in their endpoint
//
// Start-up here (data dir, identity, stores, listen, server.json); requests are
// server-http.ts's.
import { join, resolve } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { exec as realExec, type Exec } from '../tools/exec.js';
import { staticCredentials, type CloudTarget } from '../cloud/target.js';
import { BucketStore } from './bucket-store.js';
import { makePrivateDir } from './private-files.js';
import {
  loadOrCreateIdentity,
  keyPaths,
  type IdentityFailure,
  type IdentitySeed,
  type LocalIdentity,
} from './identity.js';
import { ImageStore, type NewImageId } from './image-store.js';
import { removeServerFile, runningServer, writeServerFile } from './server-file.js';
import {
  EC2_PATH,
  S3_PATH,
  closeServer,
  createCloudServer,
  listen,
  type CloudServices,
} from './server-http.js';

export const LOCAL_REGION = 'local';
/** S3's limit for one PUT: 5 GiB. */
export const DEFAULT_MAX_OBJECT_SIZE = 5 * 1024 ** 3;

export interface LocalCloud {
  readonly endpoints: { readonly ec2: string; readonly s3: string };
  readonly region: string;
  /** The account's key pair (a local, throw-away secret kept in the data dir). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly accountId: string;
  readonly userCertPem: string;
  readonly userKeyPem: string;
  readonly cloudCertPem: string;
  /** Paths of the PEM files in the data dir (`cloud-cert` is the one recipes bundle for). */
  readonly keyFiles: ReturnType<typeof keyPaths>;
  readonly dataDir: string;
  readonly port: number;
  /** False when this handle points at a server another process runs (close() then only forgets it). */
  readonly isOwner: boolean;
  close(): Promise<void>;
}

export type LocalCloudFailure =
  | IdentityFailure
  | {
      readonly reason: 'already-running';
      readonly dataDir: string;
      readonly pid: number;
      readonly port: number;
    }
  | {
      readonly reason: 'listen-failed';
      readonly host: string;
      readonly port: number;
      readonly code: string;
    }
  | { readonly reason: 'data-dir'; readonly dataDir: string; readonly code: string };

export interface StartLocalCloudOptions {
  /** Where buckets, images and keys live; created if missing. */
  readonly dataDir: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default 127.0.0.1; the local cloud is not meant to be reachable from elsewhere. */
  readonly host?: string;
  /** Identity values for the first start (tests: golden keys and account 123456789012). */
  readonly seed?: IdentitySeed;
  /** New images stay `pending` this long (tests of the waiter). Default 0. */
  readonly pendingMs?: number;
  /** The clock request signatures are checked against, ms since the epoch (tests: a recording's time). Default Date.now. */
  readonly now?: () => number;
  /** The largest object one PUT may store, in bytes; larger ones get EntityTooLarge. Default 5 GiB. */
  readonly maxObjectSize?: number;
  /** Issues image ids (tests: the ids a recorded session used). Default: random, never reused. */
  readonly newImageId?: NewImageId;
  /** Eucalyptus' cloud.images.defaultkernel/defaultramdisk: for machine images that name none. Default: unset. */
  readonly defaultKernelId?: string;
  readonly defaultRamdiskId?: string;
  readonly exec?: Exec;
  readonly signal?: AbortSignal;
}

function describeFromIdentity(
  identity: LocalIdentity,
  dataDir: string,
  host: string,
  port: number,
  isOwner: boolean,
  close: () => Promise<void>,
): LocalCloud {
  const base = `http://${host}:${port}`;
  return {
    endpoints: { ec2: `${base}${EC2_PATH}`, s3: `${base}${S3_PATH}` },
    region: LOCAL_REGION,
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
    accountId: identity.accountId,
    userCertPem: identity.userCertPem,
    userKeyPem: identity.userKeyPem,
    cloudCertPem: identity.cloudCertPem,
    keyFiles: keyPaths(dataDir),
    dataDir,
    port,
    isOwner,
    close,
  };
}

/** Creates the data dir private to this user (an older one is tightened). */
async function prepareDataDir(dataDir: string): Promise<Result<void, LocalCloudFailure>> {
  try {
    // 0700: objects, images and the key pair are this user's.
    await makePrivateDir(dataDir);
    return ok(undefined);
  } catch (error) {
    return err({
      reason: 'data-dir',
      dataDir,
      code: (error as NodeJS.ErrnoException).code ?? 'UNKNOWN',
    });
  }
}

/** The stores and settings the server answers with, opened from the data dir. */
async function openServices(
  options: StartLocalCloudOptions,
  identity: LocalIdentity,
): Promise<CloudServices> {
  const { dataDir } = options;
  return {
    identity,
    store: await BucketStore.open(join(dataDir, 's3')),
    images: await ImageStore.open(join(dataDir, 'images.json'), options.newImageId),
    region: LOCAL_REGION,
    now: options.now ?? Date.now,
    maxObjectSize: options.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE,
    ec2: {
      ...(options.defaultKernelId !== undefined
        ? { defaultKernelId: options.defaultKernelId }
        : {}),
      ...(options.defaultRamdiskId !== undefined
        ? { defaultRamdiskId: options.defaultRamdiskId }
        : {}),
      ...(options.pendingMs !== undefined ? { pendingMs: options.pendingMs } : {}),
    },
  };
}

/**
 * Starts the local cloud on `host:port` with the data in `dataDir` (identity created on
 * first start). Refuses when another live process serves the same data dir
 * (`already-running`, with its port: use openLocalCloud to share it).
 */
export async function startLocalCloud(
  options: StartLocalCloudOptions,
): Promise<Result<LocalCloud, LocalCloudFailure>> {
  const { dataDir } = options;
  const host = options.host ?? '127.0.0.1';
  const prepared = await prepareDataDir(dataDir);
  if (!prepared.ok) return prepared;
  const running = await runningServer(dataDir);
  if (running)
    return err({ reason: 'already-running', dataDir, pid: running.pid, port: running.port });
  const identity = await loadOrCreateIdentity({
    dataDir,
    exec: options.exec ?? realExec,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    signal: options.signal ?? new AbortController().signal,
  });
  if (!identity.ok) return identity;
  const server = createCloudServer(await openServices(options, identity.value));
  const port = await listen(server, { host, port: options.port ?? 0 });
  if (typeof port !== 'number')
    return err({
      reason: 'listen-failed',
      host,
      port: options.port ?? 0,
      code: port.code ?? 'UNKNOWN',
    });
  const serverFile = await writeServerFile(dataDir, { pid: process.pid, port, host });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await closeServer(server);
    await removeServerFile(serverFile);
  };
  return ok(describeFromIdentity(identity.value, dataDir, host, port, true, close));
}

/** Clouds this process opened, by data dir: every opener shares one, the last close stops it. */
const openedHere = new Map<
  string,
  { readonly opened: Promise<Result<LocalCloud, LocalCloudFailure>>; holders: number }
>();

/**
 * The local cloud of `dataDir`: the one another process serves (`emi-recipe cloud
 * serve`), the one this process already opened (a shared store and publishing in one
 * apply), or a new in-process one on a free port. `close()` stops only what it started,
 * once the last of this process's openers has closed it.
 */
export async function openLocalCloud(
  options: Omit<StartLocalCloudOptions, 'port'>,
): Promise<Result<LocalCloud, LocalCloudFailure>> {
  const key = resolve(options.dataDir);
  let shared = openedHere.get(key);
  if (shared === undefined) {
    shared = { opened: connectOrStart(options), holders: 0 };
    openedHere.set(key, shared);
  }
  shared.holders += 1;
  const entry = shared;
  const release = async (cloud?: LocalCloud): Promise<void> => {
    entry.holders -= 1;
    if (entry.holders > 0) return;
    if (openedHere.get(key) === entry) openedHere.delete(key);
    await cloud?.close();
  };
  const opened = await entry.opened;
  if (!opened.ok) {
    await release();
    return opened;
  }
  let closed = false;
  return ok({
    ...opened.value,
    close: async () => {
      if (closed) return;
      closed = true;
      await release(opened.value);
    },
  });
}

async function connectOrStart(
  options: Omit<StartLocalCloudOptions, 'port'>,
): Promise<Result<LocalCloud, LocalCloudFailure>> {
  const running = await runningServer(options.dataDir);
  if (running) {
    const identity = await loadOrCreateIdentity({
      dataDir: options.dataDir,
      exec: options.exec ?? realExec,
      signal: options.signal ?? new AbortController().signal,
    });
    if (!identity.ok) return identity;
    return ok(
      describeFromIdentity(identity.value, options.dataDir, running.host, running.port, false, () =>
        Promise.resolve(),
      ),
    );
  }
  return startLocalCloud(options);
}

/** The CloudTarget to publish to `cloud` with the same code as for a real cloud. */
export function localCloudTarget(cloud: LocalCloud): CloudTarget {
  return {
    cloud: 'local',
    endpoints: cloud.endpoints,
    region: cloud.region,
    isAws: false,
    credentials: staticCredentials(
      cloud.credentials.accessKeyId,
      cloud.credentials.secretAccessKey,
    ),
    accessKeyId: cloud.credentials.accessKeyId,
    sources: { ec2: 'local-cloud', s3: 'local-cloud', credentials: 'local-cloud' },
  };
}

/** One sentence for a LocalCloudFailure, naming the data dir or port and what to do. */
export function describeLocalCloudFailure(failure: LocalCloudFailure): string {
  switch (failure.reason) {
    case 'already-running':
      return `the local cloud in ${failure.dataDir} is already served by process ${failure.pid} on port ${failure.port}; use that one or stop it first`;
    case 'listen-failed':
      return `cannot listen on ${failure.host}:${failure.port} (${failure.code}); ${failure.code === 'EADDRINUSE' ? 'the port is taken: pick another with --port, or 0 for any' : 'check the address'}`;
    case 'data-dir':
      return `cannot create the local cloud's data dir ${failure.dataDir} (${failure.code})`;
    case 'keygen-failed':
      return `cannot create the local cloud's keys: ${failure.tool.command} failed (${failure.tool.reason}); is openssl installed (scripts/install-host-tools)?`;
    case 'identity-invalid':
      return `the local cloud's identity in ${failure.path} is unusable (${failure.problem}); remove the data dir to start afresh`;
  }
}
