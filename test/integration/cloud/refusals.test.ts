// What the local cloud refuses, as a Eucalyptus would, and how it reaches the caller:
// wrong credentials, a tampered manifest, an unknown kernel, a bundle made for another
// cloud certificate, a missing or corrupted part, an unreachable endpoint.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describeCloudFailure } from '../../../src/cloud/aws-errors.js';
import { createCloudClients } from '../../../src/cloud/clients.js';
import { registerImage } from '../../../src/cloud/ec2-register.js';
import { sdkImageRegistry } from '../../../src/cloud/image-registry.js';
import { sdkObjectStore } from '../../../src/cloud/object-store.js';
import { uploadBundle } from '../../../src/cloud/s3-upload.js';
import { staticCredentials } from '../../../src/cloud/target.js';
import { makeRandomBundle, resignManifest } from '../../helpers/bundles.js';
import { GOLDEN_CASES, goldenBundlePath, goldenKey } from '../../helpers/golden.js';
import { GOLDEN_ACCOUNT, startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

const signal = new AbortController().signal;
// Real HTTP and child processes on a shared 2-core machine: allow time.
jest.setTimeout(120_000);
const BUCKET = 'refusals';
const ramdisk = GOLDEN_CASES.find((c) => c.name === 'ramdisk')!;
const machine = GOLDEN_CASES.find((c) => c.name === 'machine')!;

let t: TestCloud;
let work: string;

beforeAll(async () => {
  t = await startTestCloud();
  work = await mkdtemp(join(tmpdir(), 'emi-refusals-'));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

async function uploadText(
  prefix: string,
  name: string,
  text: string,
  partsDir: string,
): Promise<string> {
  const dir = join(work, prefix);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), text, 'latin1');
  const up = await uploadBundle({
    store: t.store,
    bucket: BUCKET,
    prefix,
    manifestPath: join(dir, name),
    partsDir,
    signal,
  });
  if (!up.ok) throw new Error(describeCloudFailure(up.error));
  return `${BUCKET}/${prefix}/${name}`;
}

async function register(location: string, extra: { kernelId?: string; ramdiskId?: string } = {}) {
  return registerImage({
    registry: t.registry,
    imageLocation: location,
    name: `img-${Date.now()}`,
    signal,
    ...extra,
  });
}

describe('wrong credentials', () => {
  test.each([
    [
      'a wrong secret',
      (id: string) => staticCredentials(id, 'not-the-secret'),
      'SignatureDoesNotMatch',
    ],
    ['an unknown key id', () => staticCredentials('AKIDUNKNOWN', 'whatever'), 'InvalidAccessKeyId'],
  ])(
    '%s: S3 and EC2 both answer auth-failure naming the endpoint',
    async (_what, creds, s3Code) => {
      const clients = createCloudClients(
        { ...t.target, credentials: creds(t.cloud.credentials.accessKeyId) },
        { maxAttempts: 1 },
      );
      try {
        const store = sdkObjectStore(clients.s3, t.cloud.endpoints.s3);
        const up = await uploadBundle({
          store,
          bucket: BUCKET,
          prefix: 'x',
          manifestPath: goldenBundlePath(ramdisk, ramdisk.manifest),
          signal,
        });
        expect(!up.ok && up.error).toMatchObject({
          reason: 'auth-failure',
          code: s3Code,
          httpStatus: 403,
        });
        if (!up.ok) expect(describeCloudFailure(up.error)).toContain(t.cloud.endpoints.s3);
        const registry = sdkImageRegistry(clients.ec2, t.cloud.endpoints.ec2);
        const reg = await registerImage({
          registry,
          imageLocation: `${BUCKET}/x/y.manifest.xml`,
          name: 'nope',
          signal,
        });
        expect(!reg.ok && reg.error).toMatchObject({
          reason: 'auth-failure',
          code: 'AuthFailure',
          httpStatus: 401,
        });
        if (!reg.ok) {
          const message = describeCloudFailure(reg.error);
          expect(message).toContain(t.cloud.endpoints.ec2);
          expect(message).toContain('EC2_SECRET_KEY');
        }
      } finally {
        clients.destroy();
      }
    },
  );

  test('an unreachable endpoint is reported as such, with the URL', async () => {
    const dead = 'http://127.0.0.1:9/services/compute';
    const clients = createCloudClients(
      { ...t.target, endpoints: { ec2: dead, s3: dead } },
      { maxAttempts: 1 },
    );
    try {
      const reg = await registerImage({
        registry: sdkImageRegistry(clients.ec2, dead),
        imageLocation: 'a/b.manifest.xml',
        name: 'nope',
        signal,
        retry: { attempts: 1 },
      });
      expect(!reg.ok && reg.error).toMatchObject({ reason: 'unreachable', code: 'ECONNREFUSED' });
      if (!reg.ok) expect(describeCloudFailure(reg.error)).toContain(dead);
    } finally {
      clients.destroy();
    }
  });
});

describe('registration refused with the reason', () => {
  test('a tampered manifest (signed bytes changed after signing)', async () => {
    const original = await readFile(goldenBundlePath(ramdisk, ramdisk.manifest), 'latin1');
    const tampered = original.replace('<size>1048575</size>', '<size>1048576</size>');
    expect(tampered).not.toBe(original);
    const location = await uploadText(
      'tampered',
      ramdisk.manifest,
      tampered,
      goldenBundlePath(ramdisk, ''),
    );
    const reg = await register(location);
    expect(!reg.ok && reg.error).toMatchObject({ reason: 'refused', code: 'InvalidManifest' });
    expect(!reg.ok && reg.error.cloudMessage).toMatch(/^Invalid signature/);
  });

  test('a machine image whose kernel id is unknown', async () => {
    const text = await resignManifest(
      goldenBundlePath(machine, machine.manifest),
      (d) => d,
      goldenKey('user-key'),
    );
    const location = await uploadText(
      'unknown-kernel',
      machine.manifest,
      text,
      goldenBundlePath(machine, ''),
    );
    // The golden machine manifest names eki-1a2b3c4d / eri-5e6f7a8b, which this cloud never issued.
    const reg = await register(location);
    expect(!reg.ok && reg.error).toMatchObject({
      reason: 'not-found',
      code: 'InvalidAMIID.NotFound',
    });
    expect(!reg.ok && reg.error.cloudMessage).toContain(
      "kernel image ID 'eki-1a2b3c4d' does not exist",
    );
  });

  test('a bundle made for another cloud certificate (key not decryptable)', async () => {
    const dir = join(work, 'wrong-cert');
    const manifestPath = await makeRandomBundle({
      dir,
      name: 'initrd-wrongcert',
      partCount: 2,
      partSize: 1000,
      account: GOLDEN_ACCOUNT,
      type: 'ramdisk',
      userKeyPem: goldenKey('user-key'),
      userCertPem: goldenKey('user-cert'),
      cloudCertPem: goldenKey('user-cert'),
    });
    const up = await uploadBundle({
      store: t.store,
      bucket: BUCKET,
      prefix: 'wrong-cert',
      manifestPath,
      signal,
    });
    expect(up.ok).toBe(true);
    const reg = await register(`${BUCKET}/wrong-cert/initrd-wrongcert.manifest.xml`);
    expect(!reg.ok && reg.error).toMatchObject({ reason: 'refused', code: 'InvalidManifest' });
    expect(!reg.ok && reg.error.cloudMessage).toMatch(/^DecryptionFailed/);
  });

  test('a manifest of another account', async () => {
    const text = await resignManifest(
      goldenBundlePath(ramdisk, ramdisk.manifest),
      (d) => ({ ...d, image: { ...d.image, user: '999999999999' } }),
      goldenKey('user-key'),
    );
    const location = await uploadText(
      'other-account',
      ramdisk.manifest,
      text,
      goldenBundlePath(ramdisk, ''),
    );
    const reg = await register(location);
    expect(!reg.ok && reg.error).toMatchObject({ reason: 'refused', code: 'AuthFailure' });
    expect(!reg.ok && reg.error.cloudMessage).toMatch(/^Manifest is not accessible/);
  });

  test('a part replaced after upload (SHA-1 differs) and a missing part', async () => {
    const location = await uploadText(
      'bad-part',
      ramdisk.manifest,
      await resignManifest(
        goldenBundlePath(ramdisk, ramdisk.manifest),
        (d) => d,
        goldenKey('user-key'),
      ),
      goldenBundlePath(ramdisk, ''),
    );
    await t.clients.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'bad-part/initrd-golden.part.00',
        Body: Buffer.from('not the part'),
      }),
    );
    const reg = await register(location);
    expect(!reg.ok && reg.error.cloudMessage).toMatch(/^Part 0 .* has SHA-1 /);
    await t.store.deleteObject(BUCKET, 'bad-part/initrd-golden.part.00', signal);
    const again = await register(location);
    expect(!again.ok && again.error.cloudMessage).toMatch(/^Part 0 .* is missing/);
  });

  test('a duplicate name and a malformed name', async () => {
    const location = await uploadText(
      'dup',
      ramdisk.manifest,
      await resignManifest(
        goldenBundlePath(ramdisk, ramdisk.manifest),
        (d) => d,
        goldenKey('user-key'),
      ),
      goldenBundlePath(ramdisk, ''),
    );
    const first = await registerImage({
      registry: t.registry,
      imageLocation: location,
      name: 'dup-name',
      signal,
    });
    expect(first.ok).toBe(true);
    const other = await uploadText(
      'dup2',
      ramdisk.manifest,
      await resignManifest(
        goldenBundlePath(ramdisk, ramdisk.manifest),
        (d) => d,
        goldenKey('user-key'),
      ),
      goldenBundlePath(ramdisk, ''),
    );
    const second = await registerImage({
      registry: t.registry,
      imageLocation: other,
      name: 'dup-name',
      signal,
    });
    expect(!second.ok && second.error).toMatchObject({
      reason: 'refused',
      code: 'InvalidAMIName.Duplicate',
    });
    const bad = await registerImage({
      registry: t.registry,
      imageLocation: other,
      name: 'a b',
      signal,
    });
    expect(!bad.ok && bad.error.code).toBe('InvalidAMIName.Malformed');
  });
});
