// The manifest of an hvm machine bundle is what euca-bundle-image 3.4.1 writes for a machine
// image bundled without --kernel/--ramdisk: the golden `tiny-exact-multiple` bundle (no -B)
// and `multipart` (-B ami=sda1,root=/dev/sda1,ephemeral0=sda2,swap=sda3) are such bundles.
// euca2ools' manifest.py writes kernel_id/ramdisk_id only when given, and the block device
// mapping (sorted by virtual name) only when -B is given. The machine configuration our
// settings give, rendered with each golden bundle's <image>, must be its bytes exactly.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { renderSignedManifest } from '../../../src/bundle/manifest.js';
import { parseManifest } from '../../../src/bundle/manifest-read.js';
import { buildManifestData } from '../../../src/bundle/write-manifest.js';
import type { BundleParts } from '../../../src/bundle/bundle-parts.js';
import type { BundleParams } from '../../../src/plan/step-params.js';
import { bundleImageManifestSettings } from '../../../src/steps/bundle-boot-image.js';
import { GOLDEN_CASES, goldenBundlePath, goldenKey } from '../../helpers/golden.js';

const TARGET: BundleParams['target'] = {
  cloud: 'local',
  ec2Endpoint: null,
  s3Endpoint: null,
  region: 'local',
  accessKeyId: null,
};

/** The golden bundle's own facts as a BundleParts record (what bundle-parts would have made). */
function partsOf(xml: string): BundleParts {
  const parsed = parseManifest(xml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  const { image, bundler, machineConfiguration } = parsed.value;
  return {
    formatVersion: 1,
    prefix: image.name,
    imageType: image.type,
    architecture: machineConfiguration.architecture,
    account: image.user,
    imageSize: image.size,
    digest: image.digest,
    bundledSize: image.bundledSize,
    parts: image.parts.map((p) => ({ filename: p.filename, sha1: p.digest, size: 0 })),
    ec2EncryptedKey: image.ec2EncryptedKey,
    ec2EncryptedIv: image.ec2EncryptedIv,
    userEncryptedKey: image.userEncryptedKey,
    userEncryptedIv: image.userEncryptedIv,
    bundler,
    warnings: [],
  };
}

const cases = [
  { name: 'tiny-exact-multiple', arch: 'x86_64', mapping: [] },
  {
    name: 'multipart',
    arch: 'i386',
    // In the recipe's order, not euca2ools' sorted one: the manifest sorts them.
    mapping: [
      { virtual: 'root', device: '/dev/sda1' },
      { virtual: 'ami', device: 'sda1' },
      { virtual: 'swap', device: 'sda3' },
      { virtual: 'ephemeral0', device: 'sda2' },
    ],
  },
] as const;

describe.each(cases)('hvm machine manifest vs golden $name', (c) => {
  const golden = GOLDEN_CASES.find((g) => g.name === c.name)!;
  const xml = readFileSync(goldenBundlePath(golden, golden.manifest), 'latin1');

  test('no kernel_id or ramdisk_id in the golden bundle or in our settings', () => {
    expect(xml).not.toContain('kernel_id');
    expect(xml).not.toContain('ramdisk_id');
    const settings = bundleImageManifestSettings({
      imageType: 'machine',
      arch: c.arch,
      prefix: golden.image,
      partSizeBytes: 10 * 2 ** 20,
      blockDeviceMapping: c.mapping,
      account: '123456789012',
      target: TARGET,
    });
    expect(settings).not.toHaveProperty('kernelId');
    expect(settings).not.toHaveProperty('ramdiskId');
  });

  test('rendered with the golden <image>, the manifest is euca-bundle-image 3.4.1 byte for byte', () => {
    const settings = bundleImageManifestSettings({
      imageType: 'machine',
      arch: c.arch,
      prefix: golden.image,
      partSizeBytes: 10 * 2 ** 20,
      blockDeviceMapping: c.mapping,
      account: '123456789012',
      target: TARGET,
    });
    // multipart was also bundled with --productcodes, which recipes do not have: add them.
    const codes = c.name === 'multipart' ? { productCodes: ['0123ABCD', '4567EFGH'] } : {};
    const data = buildManifestData(partsOf(xml), { ...settings, ...codes });
    if (!data.ok) throw new Error(JSON.stringify(data.error));
    expect(renderSignedManifest(data.value, goldenKey('user-key'))).toBe(xml);
  });
});
