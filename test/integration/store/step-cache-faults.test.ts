// The S3 step cache (store/s3-step-cache.ts) through a fault-injecting proxy in front of
// the embedded cloud, with the real AWS SDK: connections dropped, 5xx and stalled during
// uploads and downloads. An entry is either absent or names whole blobs; a download is
// either the recorded content or nothing at all; a corrupt blob is refused.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createCloudClients } from '../../../src/cloud/clients.js';
import { sdkBlobObjects } from '../../../src/cloud/blob-objects.js';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { hashFile } from '../../../src/run/file-identity.js';
import type { StepCache } from '../../../src/run/step-cache.js';
import { sdkCasObjects } from '../../../src/store/sdk-cas-objects.js';
import { s3StepCache } from '../../../src/store/s3-step-cache.js';
import { exec } from '../../../src/tools/exec.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../../helpers/fault-proxy.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(180_000);
const MIB = 1024 * 1024;
const BUCKET = 'emi-cache';
const signal = new AbortController().signal;
let t: TestCloud;
let work: string;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  t = await startTestCloud();
  work = mkdtempSync(join(tmpdir(), 'emi-cache-faults-'));
  const made = await t.store.createBucket(BUCKET, signal);
  expect(made.ok).toBe(true);
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await t.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A cache whose every request goes through a proxy with `plan`'s faults. */
async function faultyCache(prefix: string, plan: (n: number) => Fault): Promise<StepCache> {
  const proxy = await startFaultProxy(t.cloud.port, plan);
  proxies.push(proxy);
  const url = `http://127.0.0.1:${String(proxy.port)}/services/objectstorage`;
  const clients = createCloudClients(
    { ...t.target, endpoints: { ...t.target.endpoints, s3: url } },
    { requestTimeoutMs: 1000, maxAttempts: 2 },
  );
  return cacheOver(clients.s3, url, prefix);
}

function cacheOver(
  s3: ReturnType<typeof createCloudClients>['s3'],
  url: string,
  prefix: string,
): StepCache {
  const store = parseS3Url(`s3://${BUCKET}/${prefix}`);
  if (!store.ok) throw new Error(store.error);
  return s3StepCache({
    objects: sdkCasObjects(s3, BUCKET, url),
    blobs: sdkBlobObjects(s3, url, BUCKET),
    store: store.value,
    recipe: 'faulty',
    kinds: new Set(['install-os']),
  });
}

const direct = (prefix: string): StepCache => cacheOver(t.clients.s3, t.cloud.endpoints.s3, prefix);

/** A step directory with a 12 MiB sparse disk (random data in the middle) and a small file. */
async function stepOutputs(name: string) {
  const dir = join(work, name);
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  const disk = join(dir, 'disk.raw');
  const f = await open(disk, 'w');
  await f.write(randomBytes(7 * MIB), 0, 7 * MIB, 3 * MIB);
  await f.truncate(12 * MIB);
  await f.close();
  await writeFile(join(dir, 'note.txt'), `${name}\n`);
  const artifacts = {
    disk: { file: 'disk.raw', sha256: await hashFile(disk), size: 12 * MIB },
    note: {
      file: 'note.txt',
      sha256: await hashFile(join(dir, 'note.txt')),
      size: name.length + 1,
    },
  };
  // outputDigest as run/checkpoint.ts makes it.
  const { outputDigestOf } = await import('../../../src/run/checkpoint.js');
  const values = { sizeBytes: 12 * MIB };
  return {
    dir,
    entry: {
      kind: 'install-os',
      fingerprint: randomBytes(32).toString('hex'),
      artifacts,
      values,
      outputDigest: outputDigestOf(artifacts, values),
    },
  };
}

async function keys(prefix: string): Promise<string[]> {
  const out = await t.clients.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/_cache/` }),
  );
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

const transfer = { signal, exec, log: () => undefined };

const faults: Fault[] = [
  { kind: 'drop-after', bytes: 300_000 },
  { kind: 'status', status: 503, code: 'SlowDown' },
  { kind: 'stall', ms: 2500 },
  { kind: 'status', status: 500, code: 'InternalError' },
  { kind: 'drop-after', bytes: 2_000_000 },
];

describe('the step cache through a faulty network', () => {
  test('uploads with drops, 5xx and stalls: the entry, when made, names only whole blobs', async () => {
    const { dir, entry } = await stepOutputs('flaky');
    const cache = await faultyCache('flaky', (n) =>
      n < 15 ? (faults[n % faults.length] ?? { kind: 'pass' }) : { kind: 'pass' },
    );
    const saved = await cache.save(entry, dir, transfer);
    const entryKey = `flaky/_cache/steps/${entry.fingerprint}.json`;
    expect((await keys('flaky')).includes(entryKey)).toBe(saved.ok);
    if (saved.ok) {
      // Every blob it names comes back whole and verified (over a clean connection).
      const found = await direct('flaky').lookup(entry.fingerprint, signal);
      expect(found.found?.outputDigest).toBe(entry.outputDigest);
      for (const artifact of Object.values(entry.artifacts)) {
        const dest = join(work, `flaky-back-${artifact.file}`);
        const got = await direct('flaky').fetch(artifact, dest, transfer);
        expect(got.ok).toBe(true);
        expect(readFileSync(dest).equals(readFileSync(join(dir, artifact.file)))).toBe(true);
      }
    }
  });

  test('a store that never answers: the save fails and no entry exists', async () => {
    const { dir, entry } = await stepOutputs('dead');
    const cache = await faultyCache('dead', (n) =>
      n % 2 === 0 ? { kind: 'stall', ms: 1500 } : { kind: 'status', status: 503, code: 'SlowDown' },
    );
    const saved = await cache.save(entry, dir, transfer);
    expect(saved.ok).toBe(false);
    expect(await keys('dead')).not.toContain(`dead/_cache/steps/${entry.fingerprint}.json`);
  });

  test('downloads with drops, 5xx and stalls: the file is whole and verified, or absent', async () => {
    const { dir, entry } = await stepOutputs('down');
    expect((await direct('down').save(entry, dir, transfer)).ok).toBe(true);
    const cache = await faultyCache('down', (n) =>
      n < 10 ? (faults[n % faults.length] ?? { kind: 'pass' }) : { kind: 'pass' },
    );
    const dest = join(work, 'down-disk.raw');
    const got = await cache.fetch(entry.artifacts.disk, dest, transfer);
    if (got.ok) expect(readFileSync(dest).equals(readFileSync(join(dir, 'disk.raw')))).toBe(true);
    else expect(existsSync(dest)).toBe(false);
    // Never reachable: refused, nothing left behind.
    const dead = await faultyCache('down', () => ({
      kind: 'status',
      status: 500,
      code: 'InternalError',
    }));
    const dest2 = join(work, 'down-disk-2.raw');
    const refused = await dead.fetch(entry.artifacts.disk, dest2, transfer);
    expect(refused.ok).toBe(false);
    expect(existsSync(dest2)).toBe(false);
  });

  test('two saves of the same files at once (a bundle and its manifest step): each blob is sent once', async () => {
    const { dir, entry } = await stepOutputs('twins');
    const cache = direct('twins');
    const twin = { ...entry, fingerprint: randomBytes(32).toString('hex') };
    const [a, b] = await Promise.all([
      cache.save(entry, dir, transfer),
      cache.save(twin, dir, transfer),
    ]);
    if (!a.ok || !b.ok) throw new Error(`a save failed: ${JSON.stringify([a, b])}`);
    const sent = [a.value.bytesSent, b.value.bytesSent].sort((x, y) => x - y);
    expect(sent[0]).toBe(0);
    expect(sent[1]).toBeGreaterThan(7 * MIB);
    expect(await keys('twins')).toEqual(
      expect.arrayContaining([
        `twins/_cache/steps/${entry.fingerprint}.json`,
        `twins/_cache/steps/${twin.fingerprint}.json`,
      ]),
    );
  });

  test('a corrupt or missing blob is refused, never used', async () => {
    const { dir, entry } = await stepOutputs('bad');
    expect((await direct('bad').save(entry, dir, transfer)).ok).toBe(true);
    const { gzipSync } = await import('node:zlib');
    await t.clients.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `bad/_cache/blobs/sha256/${entry.artifacts.note.sha256}.gz`,
        Body: gzipSync(Buffer.from('not the note\n')),
      }),
    );
    const dest = join(work, 'bad-note.txt');
    const got = await direct('bad').fetch(entry.artifacts.note, dest, transfer);
    expect(got.ok ? 'ok' : got.error.reason).toBe('corrupt');
    expect(existsSync(dest)).toBe(false);
    const missing = await direct('bad').fetch(
      { file: 'x', sha256: 'f'.repeat(64), size: 1 },
      join(work, 'bad-x'),
      transfer,
    );
    expect(missing.ok ? 'ok' : missing.error.reason).toBe('missing');
  });
});
