// The local cloud's identity, made on first start and kept in its data dir: the account,
// its access key pair, the account user's key + certificate (signs manifests) and the
// cloud's key + certificate (bundle keys are encrypted for it). Keys come from openssl.
//
//   <dataDir>/identity.json   account id, key pair (mode 0600: a throw-away local secret)
//   <dataDir>/keys/{user-key,user-cert,cloud-key,cloud-cert}.pem
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { err, ok, type Result } from '../core/result.js';
import { keyMatchesCertificate } from '../bundle/rsa.js';
import type { Exec } from '../tools/exec.js';
import type { ToolFailure } from '../core/failure.js';

export interface LocalIdentity {
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly userKeyPem: string;
  readonly userCertPem: string;
  readonly cloudKeyPem: string;
  readonly cloudCertPem: string;
}

/** Values to use instead of fresh ones on first start (tests: the golden keys and account). */
export type IdentitySeed = Partial<LocalIdentity>;

export type IdentityFailure =
  | { readonly reason: 'keygen-failed'; readonly tool: ToolFailure }
  | { readonly reason: 'identity-invalid'; readonly path: string; readonly problem: string };

type KeyFile = 'user-key' | 'user-cert' | 'cloud-key' | 'cloud-cert';

/** Paths of the key files, e.g. for `bundle.cloudCert` in a recipe. */
export function keyPaths(dataDir: string): Record<KeyFile, string> {
  const dir = join(dataDir, 'keys');
  return {
    'user-key': join(dir, 'user-key.pem'),
    'user-cert': join(dir, 'user-cert.pem'),
    'cloud-key': join(dir, 'cloud-key.pem'),
    'cloud-cert': join(dir, 'cloud-cert.pem'),
  };
}

async function makeKeyPair(
  exec: Exec,
  dir: string,
  name: string,
  subject: string,
  signal: AbortSignal,
): Promise<Result<{ key: string; cert: string }, IdentityFailure>> {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  const made = await exec(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-sha256',
      '-days',
      '3650',
      '-subj',
      subject,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { signal, timeoutMs: 60_000 },
  );
  if (!made.ok) return err({ reason: 'keygen-failed', tool: made.error });
  return ok({ key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') });
}

/** 12 digits, not starting with 0 (Eucalyptus account numbers). */
function newAccountId(): string {
  return (
    String(randomInt(1, 10)) + Array.from({ length: 11 }, () => String(randomInt(0, 10))).join('')
  );
}

/** The identity saved in `dataDir`; undefined when there is none yet (no identity.json). */
async function loadIdentity(
  dataDir: string,
): Promise<Result<LocalIdentity | undefined, IdentityFailure>> {
  const idPath = join(dataDir, 'identity.json');
  const paths = keyPaths(dataDir);
  try {
    const saved = JSON.parse(await readFile(idPath, 'utf8')) as {
      accountId: string;
      accessKeyId: string;
      secretAccessKey: string;
    };
    const identity: LocalIdentity = {
      accountId: saved.accountId,
      accessKeyId: saved.accessKeyId,
      secretAccessKey: saved.secretAccessKey,
      userKeyPem: await readFile(paths['user-key'], 'utf8'),
      userCertPem: await readFile(paths['user-cert'], 'utf8'),
      cloudKeyPem: await readFile(paths['cloud-key'], 'utf8'),
      cloudCertPem: await readFile(paths['cloud-cert'], 'utf8'),
    };
    if (!keyMatchesCertificate(identity.cloudKeyPem, identity.cloudCertPem))
      return err({
        reason: 'identity-invalid',
        path: paths['cloud-key'],
        problem: 'the cloud key does not match cloud-cert.pem',
      });
    return ok(identity);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      return err({ reason: 'identity-invalid', path: idPath, problem: (error as Error).message });
    return ok(undefined);
  }
}

/** A new identity from `seed` where given, else fresh keys (openssl, in `scratch`) and random ids. */
async function newIdentity(options: {
  readonly exec: Exec;
  readonly seed: IdentitySeed;
  readonly scratch: string;
  readonly signal: AbortSignal;
}): Promise<Result<LocalIdentity, IdentityFailure>> {
  const { seed, scratch } = options;
  let user =
    seed.userKeyPem !== undefined && seed.userCertPem !== undefined
      ? { key: seed.userKeyPem, cert: seed.userCertPem }
      : undefined;
  let cloud =
    seed.cloudKeyPem !== undefined && seed.cloudCertPem !== undefined
      ? { key: seed.cloudKeyPem, cert: seed.cloudCertPem }
      : undefined;
  const accountId = seed.accountId ?? newAccountId();
  if (!user) {
    const made = await makeKeyPair(
      options.exec,
      scratch,
      'user',
      `/O=emi-recipe local cloud/CN=account ${accountId}`,
      options.signal,
    );
    if (!made.ok) return made;
    user = made.value;
  }
  if (!cloud) {
    const made = await makeKeyPair(
      options.exec,
      scratch,
      'cloud',
      '/O=emi-recipe local cloud/CN=cloud',
      options.signal,
    );
    if (!made.ok) return made;
    cloud = made.value;
  }
  return ok({
    accountId,
    accessKeyId: seed.accessKeyId ?? `AKLC${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: seed.secretAccessKey ?? randomBytes(30).toString('base64url'),
    userKeyPem: user.key,
    userCertPem: user.cert,
    cloudKeyPem: cloud.key,
    cloudCertPem: cloud.cert,
  });
}

/**
 * Writes `identity` into `dataDir`: the key files staged in `scratch` and renamed into
 * place, then identity.json last (its presence means the keys are complete).
 */
async function saveIdentity(
  dataDir: string,
  scratch: string,
  identity: LocalIdentity,
): Promise<void> {
  const keysDir = join(dataDir, 'keys');
  const staged = join(scratch, 'keys');
  await mkdir(staged, { recursive: true });
  for (const [name, text] of [
    ['user-key', identity.userKeyPem],
    ['user-cert', identity.userCertPem],
    ['cloud-key', identity.cloudKeyPem],
    ['cloud-cert', identity.cloudCertPem],
  ] as const) {
    await writeFileAtomic(join(staged, `${name}.pem`), text, {
      mode: name.endsWith('-key') ? 0o600 : 0o644,
    });
  }
  await rm(keysDir, { recursive: true, force: true });
  await rename(staged, keysDir);
  await writeFileAtomic(
    join(dataDir, 'identity.json'),
    JSON.stringify(
      {
        version: 1,
        accountId: identity.accountId,
        accessKeyId: identity.accessKeyId,
        secretAccessKey: identity.secretAccessKey,
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
}

/**
 * Loads the identity kept in `dataDir`, or creates it (from `seed` where given, else
 * fresh keys via openssl, else random ids) and writes it there atomically.
 */
export async function loadOrCreateIdentity(options: {
  readonly dataDir: string;
  readonly exec: Exec;
  readonly seed?: IdentitySeed;
  readonly signal: AbortSignal;
}): Promise<Result<LocalIdentity, IdentityFailure>> {
  const { dataDir } = options;
  const loaded = await loadIdentity(dataDir);
  if (!loaded.ok) return loaded;
  if (loaded.value !== undefined) return ok(loaded.value);
  await mkdir(dataDir, { recursive: true });
  const scratch = await mkdtemp(join(dataDir, '.keys-'));
  try {
    const identity = await newIdentity({
      exec: options.exec,
      seed: options.seed ?? {},
      scratch,
      signal: options.signal,
    });
    if (identity.ok) await saveIdentity(dataDir, scratch, identity.value);
    return identity;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
