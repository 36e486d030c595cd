// The local cloud's RegisterImage checks on the golden bundles, with objects and images
// looked up in memory: type decision, admin rights, kernel/ramdisk references.
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkRegistration, type CheckContext } from '../../../src/local-cloud/bundle-checks.js';
import type { ImageRecord } from '../../../src/local-cloud/image-store.js';
import { signedElements, wrapSignedElements, WRAPPINGS } from '../../helpers/forged-manifests.js';
import {
  GOLDEN_CASES,
  goldenBundlePath,
  goldenKey,
  type GoldenCase,
} from '../../helpers/golden.js';

const golden = (name: string): GoldenCase => GOLDEN_CASES.find((c) => c.name === name)!;

/** A context where bucket `bkt` holds golden bundle `c` under `key`'s directory. */
function context(c: GoldenCase, key: string, extra: Partial<CheckContext> = {}): CheckContext {
  const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
  return {
    accountId: '123456789012',
    isAdmin: true,
    userCertPems: [goldenKey('user-cert')],
    cloudKeyPem: goldenKey('cloud-key'),
    readObject: (bucket, k) =>
      Promise.resolve(
        bucket === 'bkt' && k === key ? readFileSync(goldenBundlePath(c, c.manifest)) : undefined,
      ),
    objectInfo: (bucket, k) => {
      if (bucket !== 'bkt' || !k.startsWith(dir)) return undefined;
      try {
        const bytes = readFileSync(goldenBundlePath(c, k.slice(dir.length)));
        return { size: bytes.length, sha1: createHash('sha1').update(bytes).digest('hex') };
      } catch {
        return undefined;
      }
    },
    images: [],
    ...extra,
  };
}

const image = (imageId: string, imageType: ImageRecord['imageType']): ImageRecord => ({
  imageId,
  imageType,
  imageLocation: 'b/x',
  ownerId: '123456789012',
  state: 'available',
  isPublic: false,
  architecture: 'x86_64',
  name: imageId,
  size: 1,
  bundledSize: 1,
  digest: '',
  manifestSha256: '',
  registeredAt: '',
});

describe('checkRegistration', () => {
  test('accepts the golden kernel as a kernel, with its facts', async () => {
    const c = golden('kernel');
    const r = await checkRegistration(
      { imageLocation: `bkt/k/${c.manifest}`, name: 'kernel-1' },
      context(c, `k/${c.manifest}`),
    );
    expect(r.ok && r.value).toMatchObject({
      imageType: 'kernel',
      architecture: 'x86_64',
      size: c.size,
      digest: c.digest,
    });
  });

  test('kernels and ramdisks need admin rights', async () => {
    const c = golden('ramdisk');
    const r = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'ramdisk-1' },
      context(c, c.manifest, { isAdmin: false }),
    );
    expect(!r.ok && r.error).toMatchObject({
      code: 'UnauthorizedOperation',
      message: 'Only administrators can register ramdisk images.',
    });
  });

  test('the machine image must name a kernel that is a kernel', async () => {
    const c = golden('machine');
    const images = [image('eki-1a2b3c4d', 'ramdisk'), image('eri-5e6f7a8b', 'ramdisk')];
    const r = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'machine-1' },
      context(c, c.manifest, { images }),
    );
    expect(!r.ok && r.error.code).toBe('InvalidParameterValue');
    const fine = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'machine-1' },
      context(c, c.manifest, {
        images: [image('eki-1a2b3c4d', 'kernel'), image('eri-5e6f7a8b', 'ramdisk')],
      }),
    );
    expect(fine.ok && fine.value).toMatchObject({
      imageType: 'machine',
      kernelId: 'eki-1a2b3c4d',
      ramdiskId: 'eri-5e6f7a8b',
    });
  });

  test('a machine image without kernel or ramdisk ids: MissingParameter', async () => {
    const c = golden('multipart');
    const r = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'machine-2' },
      context(c, c.manifest),
    );
    expect(!r.ok && r.error).toMatchObject({
      code: 'MissingParameter',
      message: 'Kernel ID must be specified',
    });
  });

  test('the same bundle registered as hvm: accepted with no kernel or ramdisk, recorded as hvm', async () => {
    const c = golden('multipart');
    const r = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'machine-hvm', virtualizationType: 'hvm' },
      context(c, c.manifest, { isAdmin: false, defaultKernelId: 'eki-00000001' }),
    );
    expect(r.ok && r.value).toMatchObject({ imageType: 'machine', virtualizationType: 'hvm' });
    expect(r.ok && r.value).not.toHaveProperty('kernelId');
    expect(r.ok && r.value).not.toHaveProperty('ramdiskId');
    const pv = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'machine-pv', kernelId: 'eki-1a2b3c4d' },
      context(c, c.manifest, {
        images: [image('eki-1a2b3c4d', 'kernel'), image('eri-00000002', 'ramdisk')],
        defaultRamdiskId: 'eri-00000002',
      }),
    );
    expect(pv.ok && pv.value.virtualizationType).toBe('paravirtual');
  });

  test('the root device name, as Eucalyptus derives it: the manifest’s ami mapping, else /dev/sda for hvm', async () => {
    // MachineImageInfo.getRootDeviceName: a RootDeviceName in the request plays no part.
    const register = async (name: GoldenCase['name'], hvm: boolean) => {
      const c = golden(name);
      const r = await checkRegistration(
        {
          imageLocation: `bkt/${c.manifest}`,
          name: `${name}-${hvm ? 'hvm' : 'pv'}`,
          ...(hvm ? { virtualizationType: 'hvm' } : { kernelId: 'eki-1a2b3c4d' }),
        },
        context(c, c.manifest, {
          images: [image('eki-1a2b3c4d', 'kernel'), image('eri-00000002', 'ramdisk')],
          defaultRamdiskId: 'eri-00000002',
        }),
      );
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      return r.value;
    };
    // No block device mapping in the manifest: the whole disk for hvm, sda1 for paravirtual.
    expect((await register('tiny-exact-multiple', true)).rootDeviceName).toBe('/dev/sda');
    expect((await register('tiny-exact-multiple', false)).rootDeviceName).toBe('/dev/sda1');
    // `ami: sda1` in the manifest wins, even for hvm (Eucalyptus then runs it partitioned).
    expect((await register('multipart', true)).rootDeviceName).toBe('/dev/sda1');
    // Kernels and ramdisks have none.
    const k = golden('kernel');
    const kernel = await checkRegistration(
      { imageLocation: `bkt/${k.manifest}`, name: 'kernel-1' },
      context(k, k.manifest),
    );
    expect(kernel.ok && kernel.value).not.toHaveProperty('rootDeviceName');
  });

  test('a bad location and a user certificate that did not sign the manifest', async () => {
    const c = golden('kernel');
    const bad = await checkRegistration(
      { imageLocation: 'b', name: 'kernel-1' },
      context(c, c.manifest),
    );
    expect(!bad.ok && bad.error.message).toBe('Invalid image location: b');
    const other = await checkRegistration(
      { imageLocation: `bkt/${c.manifest}`, name: 'kernel-1' },
      context(c, c.manifest, { userCertPems: [goldenKey('cloud-cert')] }),
    );
    expect(!other.ok && other.error.message).toMatch(/^Invalid signature/);
  });

  test.each(WRAPPINGS)(
    'a forged manifest (signed elements of another bundle hidden as %s) is refused',
    async (how) => {
      // The kernel's signed elements are kept where a naive verifier finds them first;
      // the values are the ramdisk's, whose parts are all there with their SHA-1s.
      const kernel = golden('kernel');
      const ramdisk = golden('ramdisk');
      const signedXml = readFileSync(goldenBundlePath(kernel, kernel.manifest), 'latin1');
      const ramdiskXml = readFileSync(goldenBundlePath(ramdisk, ramdisk.manifest), 'latin1');
      const forged = wrapSignedElements(signedXml, signedElements(ramdiskXml), how);
      const r = await checkRegistration(
        { imageLocation: `bkt/${ramdisk.manifest}`, name: 'forged-1' },
        {
          ...context(ramdisk, ramdisk.manifest),
          readObject: (bucket, key) =>
            Promise.resolve(
              bucket === 'bkt' && key === ramdisk.manifest
                ? Buffer.from(forged, 'latin1')
                : undefined,
            ),
        },
      );
      expect(!r.ok && r.error).toMatchObject({
        code: 'InvalidManifest',
        message: expect.stringMatching(
          /^Failed to read manifest file: bkt\/initrd-golden/,
        ) as unknown,
      });
    },
  );
});
