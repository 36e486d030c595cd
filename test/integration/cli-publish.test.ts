// The publishing commands as a user runs them (the built CLI, a real process) against a
// local cloud served by this test process: upload-bundle, register, images, deregister
// --delete-bundle, auth failures, --help, cloud serve.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_CASES, goldenBundlePath } from '../helpers/golden.js';
import { runCliAsync, startTestCloud, type TestCloud } from '../helpers/local-cloud.js';

const kernel = GOLDEN_CASES.find((c) => c.name === 'kernel')!;
let t: TestCloud;
// Each test starts several CLI processes (~0.5 s each on a busy machine).
jest.setTimeout(120_000);

beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(async () => {
  await t.stop();
});

describe('publishing commands against the local cloud (--data-dir)', () => {
  let imageId = '';
  test('upload-bundle, register, images, deregister --delete-bundle', async () => {
    const dir = ['--data-dir', t.dataDir];
    const up = await runCliAsync([
      'upload-bundle',
      ...dir,
      '-b',
      'cli-bucket/k',
      '-m',
      goldenBundlePath(kernel, kernel.manifest),
    ]);
    expect(up.stderr).toBe('');
    expect(up).toMatchObject({
      code: 0,
      stdout: 'Uploaded cli-bucket/k/vmlinuz-golden.manifest.xml\n',
    });

    const reg = await runCliAsync([
      'register',
      ...dir,
      'cli-bucket/k/vmlinuz-golden.manifest.xml',
      '-n',
      'cli-kernel',
    ]);
    expect(reg.code).toBe(0);
    imageId = /^IMAGE\t(eki-[0-9a-f]{8})\n$/.exec(reg.stdout)?.[1] ?? '';
    expect(imageId).not.toBe('');

    const again = await runCliAsync([
      'register',
      ...dir,
      'cli-bucket/k/vmlinuz-golden.manifest.xml',
      '-n',
      'cli-kernel',
    ]);
    expect(again.stdout).toBe(`IMAGE\t${imageId}\n`);
    expect(again.stderr).toContain('reused');

    const images = await runCliAsync(['images', ...dir]);
    expect(images.code).toBe(0);
    expect(images.stdout).toBe(
      `IMAGE\t${imageId}\tcli-bucket/k/vmlinuz-golden.manifest.xml\t123456789012\tavailable\tprivate\tx86_64\tkernel\t\t\t\tinstance-store\tparavirtual\txen\n`,
    );
    const json = await runCliAsync(['images', ...dir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      version: 1,
      images: [{ imageId, name: 'cli-kernel', imageType: 'kernel' }],
    });

    const gone = await runCliAsync(['deregister', ...dir, imageId, '--delete-bundle']);
    expect(gone).toMatchObject({ code: 0, stdout: `IMAGE\t${imageId}\n` });
    const left = await t.store.listObjects('cli-bucket', 'k/', new AbortController().signal);
    expect(left.ok && left.value.size).toBe(0);
    expect((await runCliAsync(['images', ...dir])).stdout).toBe('');
  });

  test('eucarc variables select a Eucalyptus-style target; a wrong secret is a clear error (exit 1)', async () => {
    const env = {
      EC2_URL: t.cloud.endpoints.ec2,
      S3_URL: t.cloud.endpoints.s3,
      EC2_ACCESS_KEY: t.cloud.credentials.accessKeyId,
      EC2_SECRET_KEY: t.cloud.credentials.secretAccessKey,
    };
    const ok = await runCliAsync(['images'], { env });
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    const bad = await runCliAsync(['images'], { env: { ...env, EC2_SECRET_KEY: 'wrong' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `DescribeImages at ${t.cloud.endpoints.ec2} was refused: the credentials were not accepted`,
    );
    expect(bad.stderr).not.toContain(t.cloud.credentials.secretAccessKey);
    const up = await runCliAsync(
      ['upload-bundle', '-b', 'cli-bucket', '-m', goldenBundlePath(kernel, kernel.manifest)],
      {
        env: { ...env, EC2_SECRET_KEY: 'wrong' },
      },
    );
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`at ${t.cloud.endpoints.s3}`);
    expect(up.stderr).toContain('SignatureDoesNotMatch');
  });

  test.each(['images', 'upload-bundle', 'register', 'deregister', 'cloud serve'])(
    '%s --help shows examples',
    async (command) => {
      const help = await runCliAsync([...command.split(' '), '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Examples:');
    },
  );
});

describe('cloud serve', () => {
  test('serves until SIGINT, writes a 0600 eucarc, and refuses a data dir already being served', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'emi-serve-'));
    let twice: { code: number | null; stderr: string } | undefined;
    const result = await runCliAsync(['cloud', 'serve', '--port', '0', '--data-dir', dataDir], {
      interruptOnceReady: {
        pattern: /^local cloud serving /m,
        then: async () => {
          twice = await runCliAsync(['cloud', 'serve', '--port', '0', '--data-dir', dataDir]);
        },
      },
    });
    expect(twice?.code).toBe(1);
    expect(twice?.stderr).toContain('already served by process');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/EC2 \(compute\): +http:\/\/127\.0\.0\.1:\d+\/services\/compute/);
    const eucarc = await readFile(join(dataDir, 'eucarc'), 'utf8');
    expect(eucarc).toContain('export EUCALYPTUS_CERT=');
    expect(result.stdout).not.toContain(
      /EC2_SECRET_KEY='([^']+)'/.exec(eucarc)?.[1] ?? 'no secret',
    );
    expect((await stat(join(dataDir, 'eucarc'))).mode & 0o777).toBe(0o600);
    await rm(dataDir, { recursive: true, force: true });
  });
});
