// The two-phase API: parts first (a JSON record without the AES key), the signed manifest
// later with the kernel/ramdisk ids; and the euca2ools rules on ids per image type.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { bundleImage } from '../../../src/bundle/make-bundle.js';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { checkManifestSettings } from '../../../src/bundle/bundle-options.js';
import { createBundleParts, type BundlePartsOptions } from '../../../src/bundle/bundle-parts.js';
import { parseManifest, verifyManifestSignature } from '../../../src/bundle/manifest-read.js';
import { parseBundleParts, writeBundleManifest } from '../../../src/bundle/write-manifest.js';
import { quietTask } from '../../../src/core/task.js';
import type { Exec } from '../../../src/tools/exec.js';
import { goldenKey } from '../../helpers/golden.js';

const KEY = '00112233445566778899aabbccddeeff';
const IV = '0f0e0d0c0b0a09080706050403020100';
const noExec: Exec = () => Promise.reject(new Error('unit tests start no process'));

let dir: string;
let image: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'two-phase-'));
  image = join(dir, 'vmlinuz-test');
  writeFileSync(image, randomBytes(70_000));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function options(overrides: Partial<BundlePartsOptions> = {}): BundlePartsOptions {
  return {
    imagePath: image,
    destDir: dir,
    imageType: 'kernel',
    arch: 'x86_64',
    account: '1234-5678-9012',
    userCertPem: goldenKey('user-cert'),
    cloudCertPem: goldenKey('cloud-cert'),
    partSize: 32 * 1024,
    encryption: { keyHex: KEY, ivHex: IV },
    bundler: { name: 'emi-recipe', version: 'test', release: '0' },
    exec: noExec,
    durable: false,
    ...overrides,
  };
}

describe('createBundleParts', () => {
  test('gives a JSON record that holds no plain key or IV and reads back', async () => {
    const r = await createBundleParts(options(), quietTask());
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    const json = JSON.stringify(r.value);
    expect(json).not.toContain(KEY);
    expect(json).not.toContain(IV);
    expect(parseBundleParts(JSON.parse(json))).toEqual(r.value);
    expect(parseBundleParts({ ...r.value, formatVersion: 2 })).toBeUndefined();
    expect(r.value).toMatchObject({
      prefix: 'vmlinuz-test',
      account: '123456789012',
      imageSize: 70_000,
      imageType: 'kernel',
    });
    expect(r.value.parts.map((p) => p.filename)).toEqual([
      'vmlinuz-test.part.00',
      'vmlinuz-test.part.01',
      'vmlinuz-test.part.02',
    ]);
    expect(r.value.bundledSize).toBe(r.value.parts.reduce((n, p) => n + p.size, 0));
    expect(readdirSync(dir).sort()).toEqual([
      'vmlinuz-test',
      ...r.value.parts.map((p) => p.filename),
    ]);
  });

  test('refuses bad settings before writing anything', async () => {
    const cases: [Partial<BundlePartsOptions>, string][] = [
      [{ arch: 'sparc' }, 'invalid-option'],
      [{ account: 'me' }, 'invalid-option'],
      [{ prefix: 'a/b' }, 'invalid-option'],
      [{ partSize: 0 }, 'invalid-option'],
      [{ encryption: { keyHex: 'zz', ivHex: IV } }, 'invalid-option'],
      [{ cloudCertPem: 'not a cert' }, 'certificate-invalid'],
      [{ imagePath: join(dir, 'missing') }, 'image-unreadable'],
      [{ imagePath: dir }, 'image-unreadable'],
      [{ destDir: join(dir, 'missing') }, 'output-error'],
    ];
    for (const [overrides, reason] of cases) {
      const r = await createBundleParts(options(overrides), quietTask());
      expect(r.ok ? 'ok' : r.error.reason).toBe(reason);
    }
    expect(readdirSync(dir)).toEqual(['vmlinuz-test']);
  });

  test('an image modified while being bundled is refused, leaving nothing', async () => {
    writeFileSync(image, randomBytes(3 * 1024 * 1024));
    let touched = false;
    const r = await createBundleParts(options(), {
      ...quietTask(),
      progress: () => {
        if (touched) return;
        touched = true;
        utimesSync(image, new Date(), new Date(Date.now() + 60_000));
      },
    });
    expect(r.ok ? 'ok' : describeBundleFailure(r.error)).toBe(
      `the image ${image} was modified while it was being bundled`,
    );
    expect(readdirSync(dir)).toEqual(['vmlinuz-test']);
  });

  test('an aborted run leaves nothing behind', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = await createBundleParts(options(), quietTask(controller.signal));
    expect(r).toEqual({ ok: false, error: { reason: 'canceled' } });
    expect(readdirSync(dir)).toEqual(['vmlinuz-test']);
  });
});

describe('writeBundleManifest', () => {
  test('signs the manifest with the ids given later; the signature verifies', async () => {
    const parts = await createBundleParts(
      options({ imageType: 'machine', prefix: 'disk.img' }),
      quietTask(),
    );
    if (!parts.ok) throw new Error(JSON.stringify(parts.error));
    const stored = parseBundleParts(JSON.parse(JSON.stringify(parts.value)))!;
    const w = await writeBundleManifest(
      stored,
      {
        kernelId: 'eki-1a2b3c4d',
        ramdiskId: 'eri-5e6f7a8b',
        blockDeviceMapping: [
          { virtual: 'root', device: '/dev/sda1' },
          { virtual: 'ami', device: 'sda1' },
        ],
        productCodes: ['0123ABCD'],
      },
      goldenKey('user-key'),
      dir,
    );
    if (!w.ok) throw new Error(JSON.stringify(w.error));
    expect(w.value.manifestPath).toBe(join(dir, 'disk.img.manifest.xml'));
    const xml = readFileSync(w.value.manifestPath, 'latin1');
    expect(xml).toContain(
      '<machine_configuration><architecture>x86_64</architecture><block_device_mapping><mapping><virtual>ami</virtual><device>sda1</device></mapping><mapping><virtual>root</virtual><device>/dev/sda1</device></mapping></block_device_mapping><product_codes><product_code>0123ABCD</product_code></product_codes><kernel_id>eki-1a2b3c4d</kernel_id><ramdisk_id>eri-5e6f7a8b</ramdisk_id></machine_configuration>',
    );
    expect(xml.endsWith('</manifest>')).toBe(true);
    const parsed = parseManifest(xml);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
    expect(verifyManifestSignature(parsed.value, goldenKey('user-cert'))).toBe(true);
    expect(parsed.value.image).toMatchObject({
      name: 'disk.img',
      digest: stored.digest,
      size: 70_000,
      user: '123456789012',
    });
    expect(parsed.value.image.parts.map((p) => p.digest)).toEqual(stored.parts.map((p) => p.sha1));
  });

  test('without a key the signature is UNSIGNED', async () => {
    const parts = await createBundleParts(options(), quietTask());
    if (!parts.ok) throw new Error('bundle failed');
    const w = await writeBundleManifest(parts.value, { kernelId: 'true' }, undefined, dir);
    if (!w.ok) throw new Error('manifest failed');
    expect(readFileSync(w.value.manifestPath, 'latin1')).toContain('<kernel_id>true</kernel_id>');
    expect(readFileSync(w.value.manifestPath, 'latin1')).toContain(
      '<signature>UNSIGNED</signature>',
    );
  });

  test('refuses a key that is not the user certificate’s, and ids that do not suit the type', async () => {
    const parts = await createBundleParts(options(), quietTask());
    if (!parts.ok) throw new Error('bundle failed');
    const wrongKey = await writeBundleManifest(parts.value, {}, goldenKey('cloud-key'), dir);
    expect(wrongKey).toEqual({ ok: false, error: { reason: 'key-certificate-mismatch' } });
    const ramdisk = await writeBundleManifest(
      parts.value,
      { ramdiskId: 'eri-12345678' },
      goldenKey('user-key'),
      dir,
    );
    expect(ramdisk.ok ? 'ok' : ramdisk.error).toMatchObject({
      reason: 'invalid-option',
      option: 'ramdiskId',
    });
    expect(readdirSync(dir).some((n) => n.endsWith('.manifest.xml'))).toBe(false);
  });
});

describe('bundleImage', () => {
  test('is the two phases in one call, with the same digest', async () => {
    const split = await createBundleParts(options({ prefix: 'a' }), quietTask());
    const whole = await bundleImage(
      { ...options({ prefix: 'b' }), kernelId: 'true', userKeyPem: goldenKey('user-key') },
      quietTask(),
    );
    if (!split.ok || !whole.ok) throw new Error('bundle failed');
    expect(whole.value.manifest.image.size).toBe(split.value.imageSize);
    expect(whole.value.manifest.machineConfiguration.kernelId).toBe('true');
    expect(whole.value.parts.map((p) => p.path)).toEqual(
      [0, 1, 2].map((i) => join(dir, `b.part.0${i}`)),
    );
  });

  test('refuses a user key and certificate that do not match, before any work', async () => {
    const r = await bundleImage({ ...options(), userKeyPem: goldenKey('cloud-key') }, quietTask());
    expect(r).toEqual({ ok: false, error: { reason: 'key-certificate-mismatch' } });
    expect(readdirSync(dir)).toEqual(['vmlinuz-test']);
  });
});

describe('checkManifestSettings (spec §2.1)', () => {
  test.each([
    ['kernel', { kernelId: 'true' }, true],
    ['kernel', {}, true],
    ['kernel', { kernelId: 'eki-12345678' }, false],
    ['kernel', { ramdiskId: 'eri-12345678' }, false],
    ['kernel', { blockDeviceMapping: [{ virtual: 'root', device: 'sda1' }] }, false],
    ['ramdisk', { ramdiskId: 'true' }, true],
    ['ramdisk', { kernelId: 'eki-12345678' }, false],
    ['ramdisk', { ramdiskId: 'eri-12345678' }, false],
    ['machine', { kernelId: 'eki-12345678', ramdiskId: 'eri-12345678' }, true],
    ['machine', { kernelId: 'true' }, false],
    ['machine', { architecture: 'sparc' }, false],
    ['machine', { blockDeviceMapping: [{ virtual: 'root', device: '' }] }, false],
  ] as const)('%s with %j: accepted %s', (type, settings, accepted) => {
    expect(checkManifestSettings(type, settings).ok).toBe(accepted);
  });

  test('product codes are dropped for kernel and ramdisk images, as euca2ools does', () => {
    expect(checkManifestSettings('kernel', { productCodes: ['X'] })).toMatchObject({
      ok: true,
      value: { productCodes: [] },
    });
  });
});
