// Uploads through a fault-injecting proxy (dropped connections, 500/503, stalls) still
// complete with every object's MD5 right; an upload killed midway (SIGKILL) and run again
// sends only the missing parts. Real SDK, real HTTP, the built CLI as a child process.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudClients } from '../../../src/cloud/clients.js';
import { registerImage } from '../../../src/cloud/ec2-register.js';
import { sdkObjectStore } from '../../../src/cloud/object-store.js';
import { uploadBundle } from '../../../src/cloud/s3-upload.js';
import { fileMd5, makeRandomBundle } from '../../helpers/bundles.js';
import { startFaultProxy, type Fault } from '../../helpers/fault-proxy.js';
import { goldenKey } from '../../helpers/golden.js';
import { GOLDEN_ACCOUNT, startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';
import { repoPath } from '../../helpers/paths.js';
import { scrubbedEnv } from '../../helpers/run-cli.js';

const signal = new AbortController().signal;
// Real HTTP and child processes on a shared 2-core machine: allow time.
jest.setTimeout(120_000);
let t: TestCloud;
let work: string;

const bundle = (name: string, partCount: number, partSize: number): Promise<string> =>
  makeRandomBundle({
    dir: join(work, name),
    name,
    partCount,
    partSize,
    account: GOLDEN_ACCOUNT,
    type: 'ramdisk',
    userKeyPem: goldenKey('user-key'),
    userCertPem: goldenKey('user-cert'),
    cloudCertPem: goldenKey('cloud-cert'),
  });

beforeAll(async () => {
  t = await startTestCloud();
  work = await mkdtemp(join(tmpdir(), 'emi-faults-'));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

async function expectStoredMd5s(
  prefix: string,
  dir: string,
  names: readonly string[],
): Promise<void> {
  const listed = await t.store.listObjects('faults', `${prefix}/`, signal);
  if (!listed.ok) throw new Error(listed.error.reason);
  for (const name of names) {
    expect(listed.value.get(`${prefix}/${name}`)?.etag).toBe(await fileMd5(join(dir, name)));
  }
}

describe('uploads through a faulty network', () => {
  test('drops, 500s, 503 SlowDowns and stalls: the upload completes and every MD5 matches', async () => {
    const manifestPath = await bundle('initrd-faulty', 6, 1024 * 1024);
    const pattern: Fault[] = [
      { kind: 'drop-after', bytes: 200_000 },
      { kind: 'status', status: 503, code: 'SlowDown' },
      { kind: 'drop-after', bytes: 1_500_000 },
      { kind: 'status', status: 500, code: 'InternalError' },
      { kind: 'stall', ms: 2500 },
      { kind: 'drop-after', bytes: 2_500_000 },
    ];
    const proxy = await startFaultProxy(t.cloud.port, (n) =>
      n < 18 ? pattern[n % pattern.length]! : { kind: 'pass' },
    );
    const url = `http://127.0.0.1:${proxy.port}/services/objectstorage`;
    const clients = createCloudClients(
      { ...t.target, endpoints: { ...t.target.endpoints, s3: url } },
      { requestTimeoutMs: 1000, maxAttempts: 2 },
    );
    const retries: string[] = [];
    try {
      const result = await uploadBundle({
        store: sdkObjectStore(clients.s3, url),
        bucket: 'faults',
        prefix: 'faulty',
        manifestPath,
        concurrency: 3,
        signal,
        retry: { attempts: 12, baseDelayMs: 20, maxDelayMs: 200 },
        log: (line) => {
          if (line.includes('retrying')) retries.push(line);
        },
      });
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      expect(result.value.sent).toHaveLength(7);
    } finally {
      clients.destroy();
      await proxy.close();
    }
    expect(proxy.stats['drop-after']).toBeGreaterThan(2);
    expect(proxy.stats.status).toBeGreaterThan(1);
    expect(proxy.stats.stall).toBeGreaterThan(0);
    const dir = join(work, 'initrd-faulty');
    await expectStoredMd5s('faulty', dir, [
      ...Array.from({ length: 6 }, (_, i) => `initrd-faulty.part.0${i}`),
      'initrd-faulty.manifest.xml',
    ]);
    // The cloud's own SHA-1 check of every part agrees.
    const registered = await registerImage({
      registry: t.registry,
      imageLocation: 'faults/faulty/initrd-faulty.manifest.xml',
      name: 'faulty-ramdisk',
      signal,
    });
    expect(registered.ok).toBe(true);
  });

  test('killed midway (SIGKILL) and run again: only the missing parts are sent', async () => {
    const parts = 8;
    const manifestPath = await bundle('initrd-resume', parts, 512 * 1024);
    const dir = join(work, 'initrd-resume');
    const proxy = await startFaultProxy(t.cloud.port, () => ({ kind: 'slow', pauseMs: 40 }));
    const cli = (port: number): ReturnType<typeof spawn> =>
      spawn(
        process.execPath,
        [
          repoPath('bin', 'emi-recipe.js'),
          'upload-bundle',
          '--cloud',
          'eucalyptus',
          '--s3-url',
          `http://127.0.0.1:${port}/services/objectstorage`,
          '--ec2-url',
          `http://127.0.0.1:${port}/services/compute`,
          '-b',
          'faults/resume',
          '-m',
          manifestPath,
          '--concurrency',
          '1',
          '--json',
        ],
        {
          env: scrubbedEnv({
            EC2_ACCESS_KEY: t.cloud.credentials.accessKeyId,
            EC2_SECRET_KEY: t.cloud.credentials.secretAccessKey,
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    const stored = async (): Promise<string[]> => {
      const listed = await t.store.listObjects('faults', 'resume/', signal);
      return listed.ok ? [...listed.value.keys()].sort() : [];
    };
    const first = cli(proxy.port);
    const exited = new Promise<number | null>((resolve) =>
      first.on('close', (code) => {
        resolve(code);
      }),
    );
    const deadline = Date.now() + 60_000;
    while ((await stored()).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    first.kill('SIGKILL');
    await exited;
    await proxy.close();
    const before = await stored();
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.length).toBeLessThan(parts);
    expect(before).not.toContain('resume/initrd-resume.manifest.xml');

    const second = cli(t.cloud.port);
    let stdout = '';
    second.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) =>
      second.on('close', (c) => {
        resolve(c);
      }),
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { sent: string[]; skipped: string[] };
    expect(report.skipped).toEqual(before);
    const all = [
      ...Array.from({ length: parts }, (_, i) => `resume/initrd-resume.part.0${i}`),
      'resume/initrd-resume.manifest.xml',
    ];
    expect(report.sent).toEqual(all.filter((k) => !before.includes(k)));
    await expectStoredMd5s(
      'resume',
      dir,
      all.map((k) => k.slice('resume/'.length)),
    );
  });
});
