// Bundles this project writes pass an independent checker made only of openssl, gzip, tar,
// sha1sum and coreutils (test/fixtures/bundle-checker.sh), for every image type and part
// layout. The checker itself is first shown to accept euca2ools' bundles and refuse bad ones.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { bundleImage, type BundleImageOptions } from '../../../src/bundle/make-bundle.js';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { quietTask } from '../../../src/core/task.js';
import { GOLDEN_CASES, GOLDEN_DIR, goldenBundlePath } from '../../helpers/golden.js';
import { makeGoldenInputs, removeDir, tempDir } from '../../helpers/bundle-inputs.js';
import { repoPath } from '../../helpers/paths.js';
import { goldenKey } from '../../helpers/golden.js';

// Real files and processes: more than jest's default 5 s per test.
jest.setTimeout(10 * 60_000);

const KEYS = join(GOLDEN_DIR, 'keys');

function check(manifest: string, partDir: string, original: string): string {
  const r = spawnSync(
    'bash',
    [
      repoPath('test', 'fixtures', 'bundle-checker.sh'),
      manifest,
      partDir,
      join(KEYS, 'user-key.pem'),
      join(KEYS, 'user-cert.pem'),
      join(KEYS, 'cloud-key.pem'),
      original,
    ],
    { encoding: 'utf8' },
  );
  return `${r.stdout}${r.stderr}`.trim();
}

let work: string;
let inputs: string;
beforeAll(() => {
  work = tempDir('shell-checker');
  inputs = makeGoldenInputs(join(work, 'inputs'));
});
afterAll(() => {
  removeDir(work);
});

describe('the checker', () => {
  test.each(GOLDEN_CASES)('accepts the euca2ools bundle $name', (c) => {
    expect(
      check(
        goldenBundlePath(c, c.manifest),
        join(GOLDEN_DIR, 'bundles', c.name),
        join(inputs, c.image),
      ),
    ).toBe('OK');
  });

  test('refuses a bundle against the wrong original', () => {
    const c = GOLDEN_CASES[0];
    expect(
      check(
        goldenBundlePath(c, c.manifest),
        join(GOLDEN_DIR, 'bundles', c.name),
        join(inputs, 'tiny-golden.img'),
      ),
    ).toBe('FAIL: unpacked image differs from the original');
  });
});

async function bundle(
  name: string,
  content: Buffer | 'sparse' | 'tiny-golden',
  options: Partial<BundleImageOptions>,
): Promise<{ dir: string; image: string; manifest: string; sizes: number[] }> {
  const dir = join(work, name);
  mkdirSync(dir);
  const image = join(work, `${name}.input`);
  if (content === 'sparse') {
    spawnSync('truncate', ['-s', '300M', image]);
    spawnSync('dd', [
      'if=/dev/urandom',
      `of=${image}`,
      'bs=64K',
      'count=3',
      'seek=2000',
      'conv=notrunc',
      'status=none',
    ]);
  } else if (content === 'tiny-golden') {
    copyFileSync(join(inputs, 'tiny-golden.img'), image);
  } else writeFileSync(image, content);
  const r = await bundleImage(
    {
      imagePath: image,
      destDir: dir,
      prefix: name,
      imageType: 'machine',
      arch: 'x86_64',
      account: '123456789012',
      userCertPem: goldenKey('user-cert'),
      userKeyPem: goldenKey('user-key'),
      cloudCertPem: goldenKey('cloud-cert'),
      ...options,
    },
    quietTask(),
  );
  if (!r.ok) throw new Error(describeBundleFailure(r.error));
  return { dir, image, manifest: r.value.manifestPath, sizes: r.value.parts.map((p) => p.size) };
}

describe('bundles made by emi-recipe pass the checker', () => {
  const text = Buffer.from('a few words of text, repeated: '.repeat(40_000));
  test.each([
    ['kernel', randomBytes(3_000_001), { imageType: 'kernel', kernelId: 'true' }],
    ['ramdisk', randomBytes(1_048_575), { imageType: 'ramdisk', ramdiskId: 'true' }],
    [
      'machine',
      Buffer.concat([text, Buffer.alloc(5_000_000), randomBytes(70_000)]),
      {
        kernelId: 'eki-1a2b3c4d',
        ramdiskId: 'eri-5e6f7a8b',
        blockDeviceMapping: [{ virtual: 'ami', device: 'sda1' }],
      },
    ],
    ['empty', Buffer.alloc(0), {}],
    ['many-parts', randomBytes(2_500_000), { partSize: 20_000 }],
    [
      'exact-multiple',
      'tiny-golden',
      {
        partSize: 400,
        encryption: {
          keyHex: '55555555555555555555555555555555',
          ivHex: '66666666666666666666666666666666',
        },
      },
    ],
    ['sparse', 'sparse', {}],
    ['a-long-name-'.repeat(10), randomBytes(5000), {}],
  ] as const)('%s', async (name, content, options) => {
    const { dir, image, manifest, sizes } = await bundle(name, content, options);
    expect(check(manifest, dir, image)).toBe('OK');
    if (name === 'exact-multiple') expect(sizes).toEqual([400, 400, 400, 0]);
    if (name === 'many-parts') expect(sizes.length).toBeGreaterThan(100);
  });
});
