// s3cmd 2.x in Signature Version 2 mode (signature_v2 = True): an independent SigV2
// client for the header form (make bucket, put, list, info with ?acl and ?location, get,
// delete), a multipart put, and the query form (signurl, fetched by plain HTTP).
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(120_000);
let t: TestCloud;
let work: string;
let config: string;

beforeAll(async () => {
  t = await startTestCloud();
  work = await mkdtemp(join(tmpdir(), 'emi-s3cmd-v2-'));
  config = join(work, 's3cfg');
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
      'signature_v2 = True',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

function s3cmd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('s3cmd', ['-c', config, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('s3cmd with signature_v2 = True', () => {
  test('make bucket, put, list, info, get, signed URL, delete', async () => {
    const file = join(work, 'hello.txt');
    await writeFile(file, 'hello from s3cmd\n');
    const steps: [string, Awaited<ReturnType<typeof s3cmd>>][] = [];
    const run = async (args: string[]): Promise<string> => {
      const r = await s3cmd(args);
      steps.push([args.join(' '), r]);
      expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, '']);
      return r.stdout;
    };
    await run(['mb', 's3://sigv2-bucket']);
    await run(['put', file, 's3://sigv2-bucket/dir/hello.txt']);
    expect(await run(['ls', 's3://sigv2-bucket/dir/'])).toContain(
      's3://sigv2-bucket/dir/hello.txt',
    );
    const info = await run(['info', 's3://sigv2-bucket/dir/hello.txt']);
    expect(info).toMatch(/MD5 sum:\s+[0-9a-f]{32}/);
    await run(['get', '--force', 's3://sigv2-bucket/dir/hello.txt', join(work, 'back.txt')]);
    expect(await readFile(join(work, 'back.txt'), 'utf8')).toBe('hello from s3cmd\n');

    const url = (await run(['signurl', 's3://sigv2-bucket/dir/hello.txt', '+300'])).trim();
    expect(url).toMatch(/AWSAccessKeyId=.*Expires=\d+.*Signature=/);
    const fetched = await fetch(url);
    expect([fetched.status, await fetched.text()]).toEqual([200, 'hello from s3cmd\n']);
    const tampered = await fetch(
      url.replace(/Expires=(\d+)/, (_m, e: string) => `Expires=${Number(e) + 1}`),
    );
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('SignatureDoesNotMatch');

    await run(['del', 's3://sigv2-bucket/dir/hello.txt']);
    await run(['rb', 's3://sigv2-bucket']);
    expect(await run(['ls'])).not.toContain('sigv2-bucket');
  });

  test('a multipart put (SigV2 signs ?uploads, ?partNumber&uploadId) and get back byte-identical', async () => {
    const file = join(work, 'twelve.bin');
    const data = randomBytes(12 * 1024 * 1024);
    await writeFile(file, data);
    const steps = [
      ['mb', 's3://sigv2-multipart'],
      ['put', '--multipart-chunk-size-mb=5', file, 's3://sigv2-multipart/twelve.bin'],
      ['get', '--force', 's3://sigv2-multipart/twelve.bin', join(work, 'twelve-back.bin')],
    ];
    for (const args of steps) {
      const r = await s3cmd(args);
      expect([args.join(' '), r.code, r.stderr]).toEqual([args.join(' '), 0, '']);
    }
    expect((await readFile(join(work, 'twelve-back.bin'))).equals(data)).toBe(true);
    const listed = await s3cmd(['ls', 's3://sigv2-multipart/']);
    expect(listed.stdout).toContain('12582912');
    const info = await s3cmd(['info', 's3://sigv2-multipart/twelve.bin']);
    expect(info.stdout).toMatch(/MD5 sum:\s+[0-9a-f]{32}-3\n/);
  });

  test('a wrong secret is refused with SignatureDoesNotMatch', async () => {
    const wrong = join(work, 's3cfg-wrong');
    await writeFile(
      wrong,
      (await readFile(config, 'utf8')).replace(/secret_key = .*/, 'secret_key = not-the-secret'),
    );
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('s3cmd', ['-c', wrong, 'ls'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => {
        resolve({ code, stderr });
      });
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SignatureDoesNotMatch');
  });
});
