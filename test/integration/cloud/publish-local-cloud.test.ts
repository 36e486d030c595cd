// The contract suite over real HTTP: @aws-sdk clients -> the embedded local cloud.
// Upload and register the golden kernel, ramdisk and a machine image naming them,
// describe, cross-check the stored objects with Debian's awscli, deregister, delete.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { GetObjectAclCommand } from '@aws-sdk/client-s3';
import { describeImages, deregisterImage, registerImage } from '../../../src/cloud/ec2-register.js';
import { deleteBundle, uploadBundle } from '../../../src/cloud/s3-upload.js';
import { fileMd5, resignManifest } from '../../helpers/bundles.js';
import {
  GOLDEN_CASES,
  goldenBundlePath,
  goldenKey,
  type GoldenCase,
} from '../../helpers/golden.js';
import {
  GOLDEN_ACCOUNT,
  runAwsCli,
  startTestCloud,
  type TestCloud,
} from '../../helpers/local-cloud.js';

const signal = new AbortController().signal;
// Real HTTP and child processes on a shared 2-core machine: allow time.
jest.setTimeout(120_000);
const BUCKET = 'emi-golden';
const byName = (name: string): GoldenCase => {
  const found = GOLDEN_CASES.find((c) => c.name === name);
  if (!found) throw new Error(name);
  return found;
};

let t: TestCloud;
let work: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestCloud();
  work = await mkdtemp(join(tmpdir(), 'emi-publish-'));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

describe('publish to the local cloud with the real SDK over HTTP', () => {
  test('uploads the golden kernel and ramdisk bundles (bucket created, aws-exec-read)', async () => {
    for (const name of ['kernel', 'ramdisk'] as const) {
      const c = byName(name);
      const progress: number[] = [];
      const result = await uploadBundle({
        store: t.store,
        bucket: BUCKET,
        prefix: 'golden',
        manifestPath: goldenBundlePath(c, c.manifest),
        signal,
        onProgress: (u) => progress.push(u.done),
      });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.value.manifestKey).toBe(`golden/${c.manifest}`);
      expect(result.value.sent.at(-1)).toBe(`golden/${c.manifest}`);
      expect(result.value.skipped).toEqual([]);
      expect(progress.at(-1)).toBe(result.value.bytesTotal);
    }
    const acl = await t.clients.s3.send(
      new GetObjectAclCommand({ Bucket: BUCKET, Key: 'golden/vmlinuz-golden.part.00' }),
    );
    expect(acl.Grants?.map((g) => g.Grantee?.DisplayName)).toContain('aws-exec-read');
  });

  test('a second upload sends nothing (every ETag equals the local MD5)', async () => {
    const c = byName('kernel');
    const again = await uploadBundle({
      store: t.store,
      bucket: BUCKET,
      prefix: 'golden',
      manifestPath: goldenBundlePath(c, c.manifest),
      signal,
    });
    expect(again.ok && again.value.sent).toEqual([]);
    expect(again.ok && again.value.skipped).toEqual([
      'golden/vmlinuz-golden.part.00',
      'golden/vmlinuz-golden.manifest.xml',
    ]);
  });

  test('registers the kernel and the ramdisk as eki-/eri- (8 hex digits), idempotently', async () => {
    for (const [name, prefix] of [
      ['kernel', 'eki'],
      ['ramdisk', 'eri'],
    ] as const) {
      const c = byName(name);
      const result = await registerImage({
        registry: t.registry,
        imageLocation: `${BUCKET}/golden/${c.manifest}`,
        name: `golden-${name}`,
        architecture: 'x86_64',
        signal,
      });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.value.imageId).toMatch(new RegExp(`^${prefix}-[0-9a-f]{8}$`));
      expect(result.value.reused).toBe(false);
      expect(result.value.image.imageType).toBe(name);
      ids[name] = result.value.imageId;
    }
    const again = await registerImage({
      registry: t.registry,
      imageLocation: `${BUCKET}/golden/vmlinuz-golden.manifest.xml`,
      name: 'golden-kernel',
      signal,
    });
    expect(again.ok && again.value).toMatchObject({ imageId: ids.kernel, reused: true });
  });

  test('uploads and registers a machine image naming the assigned kernel and ramdisk', async () => {
    const c = byName('multipart');
    const text = await resignManifest(
      goldenBundlePath(c, c.manifest),
      (data) => ({
        ...data,
        machineConfiguration: {
          ...data.machineConfiguration,
          architecture: 'x86_64',
          kernelId: ids.kernel,
          ramdiskId: ids.ramdisk,
        },
      }),
      goldenKey('user-key'),
    );
    const manifestPath = join(work, c.manifest);
    await writeFile(manifestPath, text, 'latin1');
    const uploaded = await uploadBundle({
      store: t.store,
      bucket: BUCKET,
      prefix: 'machine',
      manifestPath,
      partsDir: goldenBundlePath(c, ''),
      concurrency: 3,
      signal,
    });
    expect(uploaded.ok && uploaded.value.sent).toHaveLength(4);
    const registered = await registerImage({
      registry: t.registry,
      imageLocation: `${BUCKET}/machine/${c.manifest}`,
      name: 'golden-machine',
      description: 'golden machine',
      architecture: 'x86_64',
      signal,
    });
    expect(registered.ok).toBe(true);
    if (!registered.ok) return;
    expect(registered.value.imageId).toMatch(/^emi-[0-9a-f]{8}$/);
    expect(registered.value.image).toMatchObject({
      imageType: 'machine',
      kernelId: ids.kernel,
      ramdiskId: ids.ramdisk,
      state: 'available',
      ownerId: GOLDEN_ACCOUNT,
      description: 'golden machine',
    });
    ids.machine = registered.value.imageId;
  });

  test('DescribeImages: owner self, ids and filters', async () => {
    const all = await describeImages({ registry: t.registry, signal });
    expect(all.ok && all.value.map((i) => i.imageId)).toEqual(
      [ids.kernel, ids.ramdisk, ids.machine].sort(),
    );
    const kernels = await describeImages({
      registry: t.registry,
      filters: { 'image-type': ['kernel'] },
      signal,
    });
    expect(kernels.ok && kernels.value.map((i) => i.imageId)).toEqual([ids.kernel]);
    const byLocation = await describeImages({
      registry: t.registry,
      filters: { 'manifest-location': [`${BUCKET}/machine/*`] },
      signal,
    });
    expect(byLocation.ok && byLocation.value.map((i) => i.imageId)).toEqual([ids.machine]);
    const byId = await describeImages({
      registry: t.registry,
      imageIds: [ids.ramdisk ?? ''],
      owners: [],
      signal,
    });
    expect(byId.ok && byId.value[0]?.name).toBe('golden-ramdisk');
  });

  test('awscli (an independent client) lists and downloads the same bytes', async () => {
    const listed = await runAwsCli(t.cloud, ['s3api', 'list-objects-v2', '--bucket', BUCKET]);
    expect(listed.stderr).toBe('');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const objects = (JSON.parse(listed.stdout) as { Contents: { Key: string; ETag: string }[] })
      .Contents;
    const c = byName('multipart');
    const down = join(work, 'down');
    const copied = await runAwsCli(t.cloud, [
      's3',
      'cp',
      '--recursive',
      '--only-show-errors',
      `s3://${BUCKET}/machine/`,
      down,
    ]);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    for (const i of [0, 1, 2]) {
      const file = `multipart-golden.img.part.0${i}`;
      const md5 = await fileMd5(goldenBundlePath(c, file));
      expect(await fileMd5(join(down, file))).toBe(md5);
      expect(objects.find((o) => o.Key === `machine/${file}`)?.ETag).toBe(`"${md5}"`);
    }
    expect(await readFile(join(down, c.manifest), 'latin1')).toBe(
      await readFile(join(work, c.manifest), 'latin1'),
    );
  });

  test('s3cmd (another independent client) lists and fetches them too', async () => {
    const config = join(work, 's3cfg');
    await writeFile(
      config,
      [
        '[default]',
        `access_key = ${t.cloud.credentials.accessKeyId}`,
        `secret_key = ${t.cloud.credentials.secretAccessKey}`,
        `host_base = 127.0.0.1:${t.cloud.port}`,
        `host_bucket = 127.0.0.1:${t.cloud.port}`,
        'use_https = False',
        'bucket_location = local',
        'signature_v2 = False',
        '',
      ].join('\n'),
    );
    const s3cmd = (
      args: string[],
    ): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn('s3cmd', ['-c', config, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => {
          resolve({ code, stdout, stderr });
        });
      });
    const listed = await s3cmd(['ls', `s3://${BUCKET}/machine/`]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(4);
    const c = byName('multipart');
    const out = join(work, 's3cmd.part.02');
    const got = await s3cmd([
      'get',
      '--force',
      `s3://${BUCKET}/machine/multipart-golden.img.part.02`,
      out,
    ]);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(await fileMd5(out)).toBe(
      await fileMd5(goldenBundlePath(c, 'multipart-golden.img.part.02')),
    );
    const info = await s3cmd(['info', `s3://${BUCKET}/machine/multipart-golden.img.part.02`]);
    expect(info.stderr).toBe('');
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(`MD5 sum:   ${await fileMd5(out)}`);
  });

  test('data persists across a restart of the local cloud', async () => {
    await t.stop(true);
    t = await startTestCloud({ dataDir: t.dataDir });
    const all = await describeImages({ registry: t.registry, signal });
    expect(all.ok && all.value.map((i) => i.imageId)).toEqual(
      [ids.kernel, ids.ramdisk, ids.machine].sort(),
    );
    const objects = await t.store.listObjects(BUCKET, 'machine/', signal);
    expect(objects.ok && objects.value.size).toBe(4);
  });

  test('deregister and delete-bundle clean up, and can be repeated', async () => {
    const gone = await deregisterImage({
      registry: t.registry,
      imageId: ids.machine ?? '',
      signal,
    });
    expect(gone.ok && gone.value.existed).toBe(true);
    const again = await deregisterImage({
      registry: t.registry,
      imageId: ids.machine ?? '',
      signal,
    });
    expect(again.ok && again.value.existed).toBe(false);
    const deleted = await deleteBundle({
      store: t.store,
      bucket: BUCKET,
      prefix: 'machine',
      manifestName: byName('multipart').manifest,
      signal,
    });
    expect(deleted.ok && deleted.value.deleted).toHaveLength(4);
    const left = await t.store.listObjects(BUCKET, 'machine/', signal);
    expect(left.ok && left.value.size).toBe(0);
    const twice = await deleteBundle({
      store: t.store,
      bucket: BUCKET,
      prefix: 'machine',
      manifestName: byName('multipart').manifest,
      signal,
    });
    expect(twice.ok && twice.value.deleted).toEqual([]);
  });
});
