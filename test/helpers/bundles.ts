// Test bundles without a bundler: golden manifests re-signed after a change, and bundles
// of random parts with a manifest listing their SHA-1s (uploads, resume, benchmark).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  renderSignedManifest,
  type ManifestData,
  type ImageType,
} from '../../src/bundle/manifest.js';
import { parseManifest } from '../../src/bundle/manifest-read.js';
import { encryptForCertificate } from '../../src/bundle/rsa.js';

/** Reads a manifest, applies `change` to its data, and signs it again with `userKeyPem`. */
export async function resignManifest(
  manifestPath: string,
  change: (data: ManifestData) => ManifestData,
  userKeyPem: string,
): Promise<string> {
  const parsed = parseManifest(await readFile(manifestPath, 'latin1'));
  if (!parsed.ok) throw new Error(`bad manifest ${manifestPath}: ${parsed.error.problem}`);
  const { bundler, machineConfiguration, image } = parsed.value;
  return renderSignedManifest(change({ bundler, machineConfiguration, image }), userKeyPem);
}

export interface RandomBundleOptions {
  readonly dir: string;
  readonly name: string;
  readonly partCount: number;
  readonly partSize: number;
  readonly account: string;
  readonly userKeyPem: string;
  readonly userCertPem: string;
  readonly cloudCertPem: string;
  readonly type?: ImageType;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
}

/**
 * Writes `partCount` parts of random bytes (`name.part.NN`) and a signed manifest
 * listing their SHA-1s; returns the manifest path. The parts are not a real encrypted
 * image (nothing here unbundles them), but every check the cloud makes at
 * registration passes.
 */
export async function makeRandomBundle(options: RandomBundleOptions): Promise<string> {
  await mkdir(options.dir, { recursive: true });
  const parts: { filename: string; digest: string }[] = [];
  for (let i = 0; i < options.partCount; i++) {
    const filename = `${options.name}.part.${String(i).padStart(2, '0')}`;
    const sha1 = createHash('sha1');
    const out = createWriteStream(join(options.dir, filename));
    let left = options.partSize;
    while (left > 0) {
      const chunk = randomBytes(Math.min(left, 1024 * 1024));
      sha1.update(chunk);
      if (!out.write(chunk))
        await new Promise<void>((resolve) => {
          out.once('drain', () => {
            resolve();
          });
        });
      left -= chunk.length;
    }
    await new Promise<void>((resolve, reject) => {
      out.end(() => {
        resolve();
      });
      out.once('error', reject);
    });
    parts.push({ filename, digest: sha1.digest('hex') });
  }
  const key = randomBytes(16).toString('hex');
  const iv = randomBytes(16).toString('hex');
  const type = options.type ?? 'machine';
  const text = renderSignedManifest(
    {
      bundler: { name: 'emi-recipe-test', version: '0', release: '0' },
      machineConfiguration: {
        architecture: 'x86_64',
        ...(type === 'kernel' ? { kernelId: 'true' } : {}),
        ...(type === 'ramdisk' ? { ramdiskId: 'true' } : {}),
        ...(options.kernelId !== undefined ? { kernelId: options.kernelId } : {}),
        ...(options.ramdiskId !== undefined ? { ramdiskId: options.ramdiskId } : {}),
      },
      image: {
        name: options.name,
        user: options.account,
        type,
        digest: createHash('sha1').update(options.name).digest('hex'),
        size: options.partCount * options.partSize,
        bundledSize: options.partCount * options.partSize,
        ec2EncryptedKey: encryptForCertificate(key, options.cloudCertPem),
        userEncryptedKey: encryptForCertificate(key, options.userCertPem),
        ec2EncryptedIv: encryptForCertificate(iv, options.cloudCertPem),
        userEncryptedIv: encryptForCertificate(iv, options.userCertPem),
        parts,
      },
    },
    options.userKeyPem,
  );
  const manifestPath = join(options.dir, `${options.name}.manifest.xml`);
  await writeFile(manifestPath, text, 'latin1');
  return manifestPath;
}

/** MD5 hex of a file's bytes. */
export async function fileMd5(path: string): Promise<string> {
  return createHash('md5')
    .update(await readFile(path))
    .digest('hex');
}

/** Who a re-keyed bundle is for: the account, its user key/cert and the cloud's cert. */
export interface BundleIdentity {
  readonly account: string;
  readonly userKeyPem: string;
  readonly userCertPem: string;
  readonly cloudCertPem: string;
}

/**
 * A golden manifest made over for another account and cloud: the AES key and IV
 * (recovered with the golden user key) are encrypted again for the new certificates,
 * `<user>` is the new account, and `change` may edit the data; signed with the new
 * user key. The golden part files stay valid.
 */
export async function rekeyGoldenManifest(
  manifestPath: string,
  goldenUserKeyPem: string,
  to: BundleIdentity,
  change: (data: ManifestData) => ManifestData = (d) => d,
): Promise<string> {
  const { decryptWithPrivateKey } = await import('../../src/bundle/rsa.js');
  const parsed = parseManifest(await readFile(manifestPath, 'latin1'));
  if (!parsed.ok) throw new Error(`bad manifest ${manifestPath}`);
  const { bundler, machineConfiguration, image } = parsed.value;
  const key = decryptWithPrivateKey(image.userEncryptedKey, goldenUserKeyPem);
  const iv = decryptWithPrivateKey(image.userEncryptedIv, goldenUserKeyPem);
  if (!key.ok || !iv.ok) throw new Error('cannot recover the golden key/iv');
  const data: ManifestData = {
    bundler,
    machineConfiguration,
    image: {
      ...image,
      user: to.account,
      ec2EncryptedKey: encryptForCertificate(key.value, to.cloudCertPem),
      userEncryptedKey: encryptForCertificate(key.value, to.userCertPem),
      ec2EncryptedIv: encryptForCertificate(iv.value, to.cloudCertPem),
      userEncryptedIv: encryptForCertificate(iv.value, to.userCertPem),
    },
  };
  return renderSignedManifest(change(data), to.userKeyPem);
}
