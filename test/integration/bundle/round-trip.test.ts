// bundleImage then unbundle gives back the same bytes: the three image types, an empty file,
// a bundle of exactly one full part (plus euca2ools' empty part), one short part, many parts,
// and a sparse file over 10 GiB (holes neither read nor written); an abort leaves nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import {
  bundleImage,
  type BundleImageOptions,
  type BundleResult,
} from '../../../src/bundle/make-bundle.js';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { unbundle } from '../../../src/bundle/unbundle.js';
import { quietTask, type TaskContext } from '../../../src/core/task.js';
import { goldenKey } from '../../helpers/golden.js';
import { listDir, removeDir, tempDir } from '../../helpers/bundle-inputs.js';

// Real files and processes; the sparse 10 GiB case hashes 10 GiB twice.
jest.setTimeout(10 * 60_000);

let work: string;
beforeAll(() => {
  work = tempDir('round-trip');
});
afterAll(() => {
  removeDir(work);
});

const FIXED = {
  keyHex: '0123456789abcdef0123456789abcdef',
  ivHex: 'fedcba9876543210fedcba9876543210',
};
let counter = 0;

async function bundleFile(
  image: string,
  options: Partial<BundleImageOptions> = {},
  task: TaskContext = quietTask(),
) {
  const dir = join(work, `bundle-${(counter += 1)}`);
  mkdirSync(dir);
  const r = await bundleImage(
    {
      imagePath: image,
      destDir: dir,
      imageType: 'machine',
      arch: 'x86_64',
      account: '123456789012',
      userCertPem: goldenKey('user-cert'),
      userKeyPem: goldenKey('user-key'),
      cloudCertPem: goldenKey('cloud-cert'),
      ...options,
    },
    task,
  );
  return { r, dir };
}

async function roundTrip(
  image: string,
  options: Partial<BundleImageOptions> = {},
): Promise<{ bundle: BundleResult; out: string }> {
  const { r } = await bundleFile(image, options);
  if (!r.ok) throw new Error(describeBundleFailure(r.error));
  const dest = join(work, `out-${(counter += 1)}`);
  const u = await unbundle(
    { manifestPath: r.value.manifestPath, privateKeyPem: goldenKey('user-key'), destDir: dest },
    quietTask(),
  );
  if (!u.ok) throw new Error(describeBundleFailure(u.error));
  expect(u.value.signature).toBe('verified');
  return { bundle: r.value, out: u.value.imagePath };
}

function input(name: string, content: Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

const same = (a: string, b: string): boolean => readFileSync(a).equals(readFileSync(b));

describe('round trip', () => {
  test.each([
    ['kernel', { imageType: 'kernel', kernelId: 'true' }],
    ['ramdisk', { imageType: 'ramdisk', ramdiskId: 'true' }],
    [
      'machine',
      {
        kernelId: 'eki-00000001',
        ramdiskId: 'eri-00000002',
        blockDeviceMapping: [{ virtual: 'root', device: '/dev/sda1' }],
        productCodes: ['X'],
      },
    ],
  ] as const)('%s image', async (type, options) => {
    const image = input(
      `${type}.img`,
      Buffer.concat([
        randomBytes(700_000),
        Buffer.alloc(2_000_000),
        Buffer.from('text '.repeat(100_000)),
      ]),
    );
    const { bundle, out } = await roundTrip(image, options);
    expect(bundle.manifest.image.type).toBe(type);
    expect(same(image, out)).toBe(true);
  });

  test('an empty file', async () => {
    const image = input('empty.img', Buffer.alloc(0));
    const { bundle, out } = await roundTrip(image);
    expect(bundle.manifest.image.size).toBe(0);
    expect(statSync(out).size).toBe(0);
  });

  test('a bundle of exactly one full part (then the empty part euca2ools writes)', async () => {
    const image = input('one-part.img', randomBytes(50_000));
    const first = await bundleFile(image, { encryption: FIXED });
    if (!first.r.ok) throw new Error('bundle');
    const exact = first.r.value.manifest.image.bundledSize;
    const { bundle, out } = await roundTrip(image, { encryption: FIXED, partSize: exact });
    expect(bundle.parts.map((p) => p.size)).toEqual([exact, 0]);
    expect(same(image, out)).toBe(true);
  });

  test('a bundle of one short part', async () => {
    const image = input('short.img', randomBytes(1000));
    const { bundle, out } = await roundTrip(image);
    expect(bundle.parts).toHaveLength(1);
    expect(same(image, out)).toBe(true);
  });

  test('many parts (three-digit part numbers)', async () => {
    const image = input('many.img', randomBytes(3_000_000));
    const { bundle, out } = await roundTrip(image, { partSize: 16 * 1024 });
    expect(bundle.parts.length).toBeGreaterThan(150);
    expect(bundle.parts[150]!.path.endsWith('many.img.part.150')).toBe(true);
    expect(same(image, out)).toBe(true);
  });

  test('a sparse file over 10 GiB: warned, holes not read, unbundled sparse and identical', async () => {
    const image = join(work, 'sparse-10g.img');
    const size = 10 * 2 ** 30 + 3 * 4096;
    // Data at offsets with zeros on both sides (checked below), one of them past 8 GiB.
    spawnSync('truncate', ['-s', String(size), image]);
    const data = [1, 5 * 2 ** 30 + 12345, 9 * 2 ** 30, size - 5000].map((offset) => ({
      offset,
      bytes: randomBytes(3000),
    }));
    const fd = openSync(image, 'r+');
    for (const d of data) writeSync(fd, d.bytes, 0, d.bytes.length, d.offset);
    closeSync(fd);
    const logs: string[] = [];
    let started = Date.now();
    const { r } = await bundleFile(image, {}, { ...quietTask(), log: (line) => logs.push(line) });
    if (!r.ok) throw new Error(describeBundleFailure(r.error));
    const bundleSeconds = (Date.now() - started) / 1000;
    expect(r.value.warnings).toContainEqual({ reason: 'image-over-10-gib', size });
    expect(logs.join('\n')).toMatch(/sparse image: \d+ of \d+ bytes hold data/);
    expect(r.value.manifest.image.bundledSize).toBeLessThan(20 * 2 ** 20);
    const dest = join(work, 'sparse-out');
    started = Date.now();
    const u = await unbundle(
      { manifestPath: r.value.manifestPath, privateKeyPem: goldenKey('user-key'), destDir: dest },
      quietTask(),
    );
    if (!u.ok) throw new Error(describeBundleFailure(u.error));
    console.log(
      `sparse 10 GiB: bundled in ${bundleSeconds} s, unbundled in ${(Date.now() - started) / 1000} s`,
    );
    // unbundle checked the SHA-1 of the whole tar stream; the data written at known
    // places must be back there (so holes were not mistaken for data or the reverse).
    const out = statSync(u.value.imagePath);
    expect(out.size).toBe(size);
    expect(out.blocks * 512).toBeLessThan(64 * 2 ** 20); // written sparse
    const outFd = openSync(u.value.imagePath, 'r');
    for (const d of data) {
      const back = Buffer.alloc(d.bytes.length + 2);
      readSync(outFd, back, 0, back.length, d.offset - 1);
      expect(back.equals(Buffer.concat([Buffer.alloc(1), d.bytes, Buffer.alloc(1)]))).toBe(true);
    }
    closeSync(outFd);
  });

  test('an abort while bundling leaves nothing in the destination', async () => {
    const image = input('abort.img', randomBytes(40 * 2 ** 20));
    const controller = new AbortController();
    const task: TaskContext = {
      signal: controller.signal,
      log: () => undefined,
      progress: (p) => {
        if (p.done > 0) controller.abort();
      },
    };
    const { r, dir } = await bundleFile(image, {}, task);
    expect(r).toEqual({ ok: false, error: { reason: 'canceled' } });
    expect(listDir(dir)).toEqual([]);
  });

  test('an abort while unbundling leaves nothing behind', async () => {
    const image = input('abort2.img', randomBytes(40 * 2 ** 20));
    const { r } = await bundleFile(image);
    if (!r.ok) throw new Error('bundle');
    const controller = new AbortController();
    const dest = join(work, 'abort-out');
    mkdirSync(dest);
    const u = await unbundle(
      { manifestPath: r.value.manifestPath, privateKeyPem: goldenKey('user-key'), destDir: dest },
      {
        signal: controller.signal,
        log: () => undefined,
        progress: () => {
          controller.abort();
        },
      },
    );
    expect(u).toEqual({ ok: false, error: { reason: 'canceled' } });
    expect(listDir(dest)).toEqual([]);
  });
});
