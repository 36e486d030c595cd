// Bundling the golden inputs with euca2ools' settings reproduces its tar stream: the same
// <digest>, <size> and type; and the exact-multiple case gets its empty fourth part.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { bundleImage } from '../../../src/bundle/make-bundle.js';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { parseManifest } from '../../../src/bundle/manifest-read.js';
import { quietTask } from '../../../src/core/task.js';
import { GOLDEN_CASES, goldenBundlePath, goldenKey } from '../../helpers/golden.js';
import { makeGoldenInputs, removeDir, tempDir } from '../../helpers/bundle-inputs.js';

// Real files and processes: more than jest's default 5 s per test.
jest.setTimeout(10 * 60_000);

let inputs: string;
let out: string;
beforeAll(() => {
  inputs = makeGoldenInputs(tempDir('golden-inputs'));
  out = tempDir('golden-bundles');
});
afterAll(() => {
  removeDir(inputs);
  removeDir(out);
});

describe.each(GOLDEN_CASES)('golden input $name', (c) => {
  test('bundles to the digest, size and machine configuration euca2ools wrote', async () => {
    const golden = parseManifest(readFileSync(goldenBundlePath(c, c.manifest), 'latin1'));
    if (!golden.ok) throw new Error('golden manifest');
    const config = golden.value.machineConfiguration;
    const r = await bundleImage(
      {
        imagePath: join(inputs, c.image),
        destDir: out,
        imageType: c.type,
        arch: config.architecture,
        account: '123456789012',
        userCertPem: goldenKey('user-cert'),
        userKeyPem: goldenKey('user-key'),
        cloudCertPem: goldenKey('cloud-cert'),
        ...(config.kernelId !== undefined ? { kernelId: config.kernelId } : {}),
        ...(config.ramdiskId !== undefined ? { ramdiskId: config.ramdiskId } : {}),
        ...(config.blockDeviceMapping !== undefined && config.blockDeviceMapping.length > 0
          ? { blockDeviceMapping: config.blockDeviceMapping }
          : {}),
        ...(config.productCodes !== undefined && config.productCodes.length > 0
          ? { productCodes: config.productCodes }
          : {}),
        ...(c.name === 'tiny-exact-multiple' ? { partSize: 400 } : {}),
        encryption: { keyHex: c.key, ivHex: c.iv },
        bundler: { name: 'euca2ools', version: '3.4.1', release: '0' },
      },
      quietTask(),
    );
    if (!r.ok) throw new Error(describeBundleFailure(r.error));
    const image = r.value.manifest.image;
    expect(image.digest).toBe(c.digest);
    expect(image.size).toBe(c.size);
    expect(image.type).toBe(c.type);
    // Everything outside <image>'s compressed/encrypted values is the same text as euca2ools'.
    const ours = readFileSync(r.value.manifestPath, 'latin1');
    const theirs = readFileSync(goldenBundlePath(c, c.manifest), 'latin1');
    const configOf = (xml: string): string =>
      /<machine_configuration>.*<\/machine_configuration>/.exec(xml)![0];
    expect(configOf(ours)).toBe(configOf(theirs));
    expect(ours.slice(0, ours.indexOf('<machine_configuration>'))).toBe(
      theirs.slice(0, theirs.indexOf('<machine_configuration>')),
    );
    if (c.name === 'tiny-exact-multiple') {
      expect(r.value.parts.map((p) => p.size)).toEqual([400, 400, 400, 0]);
      expect(r.value.parts[3]!.sha1).toBe(createHash('sha1').digest('hex'));
    }
  });
});
