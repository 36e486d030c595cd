// The publish contract, run against a local cloud with a fresh identity (keys made by
// openssl on first start) or, opted in by env vars, against a real Eucalyptus/AWS:
//   EMI_CONTRACT_EC2_URL, EMI_CONTRACT_S3_URL, EMI_CONTRACT_ACCESS_KEY, EMI_CONTRACT_SECRET_KEY,
//   EMI_CONTRACT_ACCOUNT, EMI_CONTRACT_CERT, EMI_CONTRACT_PRIVATE_KEY, EMI_CONTRACT_CLOUD_CERT
//   (paths), EMI_CONTRACT_BUCKET (default emi-recipe-contract), EMI_CONTRACT_REGION.
// The golden bundles are re-keyed for that identity; kernels and ramdisks need admin rights.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCloudFailure } from '../../../src/cloud/aws-errors.js';
import { connectCloud, type CloudConnection } from '../../../src/cloud/connect.js';
import { describeImages, deregisterImage, registerImage } from '../../../src/cloud/ec2-register.js';
import { preflight } from '../../../src/cloud/preflight.js';
import { deleteBundle, uploadBundle } from '../../../src/cloud/s3-upload.js';
import { resolveCloudTarget } from '../../../src/cloud/target.js';
import {
  localCloudTarget,
  startLocalCloud,
  type LocalCloud,
} from '../../../src/local-cloud/server.js';
import { rekeyGoldenManifest, type BundleIdentity } from '../../helpers/bundles.js';
import { GOLDEN_CASES, goldenBundlePath, goldenKey } from '../../helpers/golden.js';

jest.setTimeout(300_000);
const signal = new AbortController().signal;
const env = process.env;
const isReal = (env.EMI_CONTRACT_EC2_URL ?? '') !== '';
const bucket = env.EMI_CONTRACT_BUCKET ?? 'emi-recipe-contract';
const prefix = `contract-${randomBytes(4).toString('hex')}`;

let connection: CloudConnection;
let identity: BundleIdentity;
let identityFiles: {
  account: string;
  certPath: string;
  privateKeyPath: string;
  cloudCertPath: string;
};
let local: LocalCloud | undefined;
let work: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'emi-contract-'));
  if (isReal) {
    const resolved = resolveCloudTarget({
      cloud: 'eucalyptus',
      endpoints: { ec2: env.EMI_CONTRACT_EC2_URL ?? '', s3: env.EMI_CONTRACT_S3_URL ?? '' },
      credentials: {
        accessKey: env.EMI_CONTRACT_ACCESS_KEY ?? '',
        secretKey: env.EMI_CONTRACT_SECRET_KEY ?? '',
      },
      ...(env.EMI_CONTRACT_REGION !== undefined ? { region: env.EMI_CONTRACT_REGION } : {}),
      env: {},
    });
    if (!resolved.ok) throw new Error(resolved.error.problem);
    connection = connectCloud(resolved.value);
    identityFiles = {
      account: env.EMI_CONTRACT_ACCOUNT ?? '',
      certPath: env.EMI_CONTRACT_CERT ?? '',
      privateKeyPath: env.EMI_CONTRACT_PRIVATE_KEY ?? '',
      cloudCertPath: env.EMI_CONTRACT_CLOUD_CERT ?? '',
    };
  } else {
    const started = await startLocalCloud({ dataDir: join(work, 'cloud') });
    if (!started.ok) throw new Error(JSON.stringify(started.error));
    local = started.value;
    connection = connectCloud(localCloudTarget(local));
    identityFiles = {
      account: local.accountId,
      certPath: local.keyFiles['user-cert'],
      privateKeyPath: local.keyFiles['user-key'],
      cloudCertPath: local.keyFiles['cloud-cert'],
    };
  }
  identity = {
    account: identityFiles.account,
    userKeyPem: await readFile(identityFiles.privateKeyPath, 'utf8'),
    userCertPem: await readFile(identityFiles.certPath, 'utf8'),
    cloudCertPem: await readFile(identityFiles.cloudCertPath, 'utf8'),
  };
});

afterAll(async () => {
  connection.destroy();
  await local?.close();
  await rm(work, { recursive: true, force: true });
});

async function publish(
  name: 'kernel' | 'ramdisk' | 'multipart',
  imageName: string,
  kernelRamdisk?: [string, string],
): Promise<string> {
  const c = GOLDEN_CASES.find((g) => g.name === name)!;
  const text = await rekeyGoldenManifest(
    goldenBundlePath(c, c.manifest),
    goldenKey('user-key'),
    identity,
    (d) =>
      kernelRamdisk
        ? {
            ...d,
            machineConfiguration: {
              ...d.machineConfiguration,
              architecture: 'i386',
              kernelId: kernelRamdisk[0],
              ramdiskId: kernelRamdisk[1],
            },
          }
        : d,
  );
  const manifestPath = join(work, c.manifest);
  await writeFile(manifestPath, text, 'latin1');
  const up = await uploadBundle({
    store: connection.store,
    bucket,
    prefix,
    manifestPath,
    partsDir: goldenBundlePath(c, ''),
    signal,
  });
  if (!up.ok) throw new Error(describeCloudFailure(up.error));
  const reg = await registerImage({
    registry: connection.registry,
    imageLocation: `${bucket}/${up.value.manifestKey}`,
    name: imageName,
    signal,
  });
  if (!reg.ok) throw new Error(describeCloudFailure(reg.error));
  return reg.value.imageId;
}

describe(`publish contract (${isReal ? (env.EMI_CONTRACT_EC2_URL ?? '') : 'local cloud, fresh openssl identity'})`, () => {
  test('pre-flight finds nothing wrong', async () => {
    const findings = await preflight({
      target: connection.target,
      store: connection.store,
      registry: connection.registry,
      bucket,
      prefix,
      mayWrite: true,
      needsAdmin: false,
      identity: identityFiles,
      signal,
    });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('kernel, ramdisk, then a machine image naming them', async () => {
    ids.kernel = await publish('kernel', `${prefix}-kernel`);
    ids.ramdisk = await publish('ramdisk', `${prefix}-ramdisk`);
    ids.machine = await publish('multipart', `${prefix}-machine`, [ids.kernel, ids.ramdisk]);
    expect(ids.kernel).toMatch(/^eki-[0-9a-f]{8,17}$/);
    expect(ids.ramdisk).toMatch(/^eri-[0-9a-f]{8,17}$/);
    expect(ids.machine).toMatch(/^emi-[0-9a-f]{8,17}$/);
    const listed = await describeImages({
      registry: connection.registry,
      imageIds: [ids.machine],
      signal,
    });
    expect(listed.ok && listed.value[0]).toMatchObject({
      kernelId: ids.kernel,
      ramdiskId: ids.ramdisk,
      state: 'available',
    });
  });

  test('cleanup: deregister all three and delete their bundles', async () => {
    for (const id of [ids.machine, ids.ramdisk, ids.kernel]) {
      const gone = await deregisterImage({
        registry: connection.registry,
        imageId: id ?? '',
        signal,
      });
      expect(gone.ok).toBe(true);
    }
    for (const c of GOLDEN_CASES.filter((g) =>
      ['kernel', 'ramdisk', 'multipart'].includes(g.name),
    )) {
      const deleted = await deleteBundle({
        store: connection.store,
        bucket,
        prefix,
        manifestName: c.manifest,
        signal,
      });
      expect(deleted.ok && deleted.value.deleted.length).toBe(c.parts + 1);
    }
  });
});
