// Every euca2ools golden bundle unbundles to the original bytes, with the user key and with
// the cloud key; tampered copies are refused with the part or field named, leaving nothing.
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { unbundle, type UnbundleOptions } from '../../../src/bundle/unbundle.js';
import { quietTask } from '../../../src/core/task.js';
import { GOLDEN_CASES, goldenKey, type GoldenCase } from '../../helpers/golden.js';
import { copyGoldenBundle, listDir, removeDir, tempDir } from '../../helpers/bundle-inputs.js';

// Real files and processes: more than jest's default 5 s per test.
jest.setTimeout(10 * 60_000);

let work: string;
beforeAll(() => {
  work = tempDir('golden-unbundle');
});
afterAll(() => {
  removeDir(work);
});

/** A new empty directory inside this file's temp dir (all removed after the tests). */
function scratch(label: string): string {
  return mkdtempSync(join(work, `${label}-`));
}

const byName = (name: string): GoldenCase => GOLDEN_CASES.find((c) => c.name === name)!;
const sha1 = (path: string): string => createHash('sha1').update(readFileSync(path)).digest('hex');

async function run(c: GoldenCase, dir: string, overrides: Partial<UnbundleOptions> = {}) {
  const dest = join(work, `out-${Math.random().toString(36).slice(2)}`);
  const r = await unbundle(
    {
      manifestPath: join(dir, c.manifest),
      privateKeyPem: goldenKey('user-key'),
      privateKeyName: 'user-key.pem',
      destDir: dest,
      ...overrides,
    },
    quietTask(),
  );
  return { r, dest, message: r.ok ? 'ok' : describeBundleFailure(r.error) };
}

describe.each(GOLDEN_CASES)('golden $name', (c) => {
  test.each(['user-key', 'cloud-key'] as const)(
    'unbundles with the %s to the original bytes',
    async (key) => {
      const { r, dest } = await run(c, copyGoldenBundle(c, join(work, `${c.name}-${key}`)), {
        privateKeyPem: goldenKey(key),
      });
      if (!r.ok) throw new Error(describeBundleFailure(r.error));
      expect(r.value.keySource).toBe(key === 'user-key' ? 'user' : 'cloud');
      expect(r.value.signature).toBe(key === 'user-key' ? 'verified' : 'not-checked');
      expect(r.value.imagePath).toBe(join(dest, c.image));
      expect(sha1(r.value.imagePath)).toBe(c.imageSha1);
      expect(listDir(dest)).toEqual([c.image]);
    },
  );

  test('the signature verifies against the user certificate even with the cloud key', async () => {
    const { r } = await run(c, copyGoldenBundle(c, join(work, `${c.name}-cert`)), {
      privateKeyPem: goldenKey('cloud-key'),
      certPem: goldenKey('user-cert'),
    });
    expect(r.ok && r.value.signature).toBe('verified');
  });
});

describe('tampered golden bundles are refused', () => {
  const cases: {
    name: string;
    golden: string;
    tamper: (dir: string) => void;
    options?: Partial<UnbundleOptions>;
    message: string;
  }[] = [
    {
      name: 'a flipped byte in a middle part',
      golden: 'multipart',
      tamper: (dir) => {
        flip(join(dir, 'multipart-golden.img.part.01'), 5_000_000);
      },
      message: 'part 1 (multipart-golden.img.part.01): SHA-1 mismatch',
    },
    {
      name: 'a flipped byte in the first part (decryption garbage follows at once)',
      golden: 'kernel',
      tamper: (dir) => {
        flip(join(dir, 'vmlinuz-golden.part.00'), 100);
      },
      message: 'part 0 (vmlinuz-golden.part.00): SHA-1 mismatch',
    },
    {
      name: 'a truncated last part',
      golden: 'multipart',
      tamper: (dir) => {
        truncateSync(join(dir, 'multipart-golden.img.part.02'), 13_000);
      },
      message: 'part 2 (multipart-golden.img.part.02): SHA-1 mismatch',
    },
    {
      name: 'a byte added to the empty trailing part',
      golden: 'tiny-exact-multiple',
      tamper: (dir) => {
        appendFileSync(join(dir, 'tiny-golden.img.part.03'), 'x');
      },
      // Reading stops at the manifest's bundled size: a part is never read past it.
      message:
        'the manifest says 1200 bytes, the parts hold more (reading stopped in part 3, tiny-golden.img.part.03)',
    },
    {
      name: 'a missing part',
      golden: 'multipart',
      tamper: (dir) => {
        rmSync(join(dir, 'multipart-golden.img.part.02'));
      },
      message: 'missing part multipart-golden.img.part.02',
    },
    {
      name: 'an edited manifest (size), checked with the user key',
      golden: 'kernel',
      tamper: (dir) => {
        edit(
          join(dir, 'vmlinuz-golden.manifest.xml'),
          '<size>3145851</size>',
          '<size>3145852</size>',
        );
      },
      message: 'signature does not verify against the public key of user-key.pem',
    },
    {
      name: 'an edited manifest (architecture), checked against the user certificate',
      golden: 'machine',
      tamper: (dir) => {
        edit(
          join(dir, 'machine-golden.img.manifest.xml'),
          '<architecture>x86_64<',
          '<architecture>i386<',
        );
      },
      options: {
        privateKeyPem: goldenKey('cloud-key'),
        certPem: goldenKey('user-cert'),
        certName: 'user-cert.pem',
      },
      message: 'signature does not verify against user-cert.pem',
    },
    {
      name: 'an edited image digest, with the cloud key and no certificate',
      golden: 'ramdisk',
      tamper: (dir) => {
        edit(
          join(dir, 'initrd-golden.manifest.xml'),
          '942180975bf21e16e869ac4d147f2c0d810e4659',
          '042180975bf21e16e869ac4d147f2c0d810e4659',
        );
      },
      options: { privateKeyPem: goldenKey('cloud-key') },
      message: 'image digest mismatch',
    },
    {
      name: 'an edited size, with the cloud key and no certificate',
      golden: 'ramdisk',
      tamper: (dir) => {
        edit(
          join(dir, 'initrd-golden.manifest.xml'),
          '<size>1048575</size>',
          '<size>1048576</size>',
        );
      },
      options: { privateKeyPem: goldenKey('cloud-key') },
      message: 'image size mismatch: the manifest says 1048576 bytes, the bundle holds 1048575',
    },
    {
      name: 'a part digest edited in the manifest, with the cloud key',
      golden: 'kernel',
      tamper: (dir) => {
        const path = join(dir, 'vmlinuz-golden.manifest.xml');
        const xml = readFileSync(path, 'latin1');
        const digest =
          /<filename>vmlinuz-golden.part.00<\/filename><digest algorithm="SHA1">([0-9a-f]+)</.exec(
            xml,
          )![1]!;
        edit(
          path,
          digest,
          digest.replace(/^./, (d) => (d === '0' ? '1' : '0')),
        );
      },
      options: { privateKeyPem: goldenKey('cloud-key') },
      message: 'part 0 (vmlinuz-golden.part.00): SHA-1 mismatch',
    },
    {
      name: 'the signature checked against the wrong certificate',
      golden: 'kernel',
      tamper: () => undefined,
      options: { certPem: goldenKey('cloud-cert'), certName: 'cloud-cert.pem' },
      message: 'signature does not verify against cloud-cert.pem',
    },
    {
      name: 'a wrong private key',
      golden: 'multipart',
      tamper: () => undefined,
      options: { privateKeyPem: otherKey() },
      message: 'cannot decrypt the key with this private key',
    },
  ];

  test.each(cases)('$name', async ({ golden, tamper, options, message }) => {
    const c = byName(golden);
    const dir = copyGoldenBundle(c, scratch('tamper'));
    tamper(dir);
    const { r, dest, message: actual } = await run(c, dir, options);
    expect(r.ok).toBe(false);
    expect(actual).toContain(message);
    expect(() => listDir(dest)).toThrow(); // never created, or …
  });

  test('nothing is left behind in an existing destination directory', async () => {
    const c = byName('multipart');
    const dir = copyGoldenBundle(c, scratch('tamper'));
    flip(join(dir, 'multipart-golden.img.part.02'), 10);
    const dest = scratch('dest');
    writeFileSync(join(dest, 'keep.txt'), 'mine');
    const { message } = await run(c, dir, { destDir: dest });
    expect(message).toContain('part 2 (multipart-golden.img.part.02): SHA-1 mismatch');
    expect(listDir(dest)).toEqual(['keep.txt']);
  });

  test('an UNSIGNED manifest is refused unless allowed', async () => {
    const c = byName('kernel');
    const dir = copyGoldenBundle(c, scratch('unsigned'));
    const path = join(dir, c.manifest);
    writeFileSync(
      path,
      readFileSync(path, 'latin1').replace(
        /<signature>[0-9a-f]+<\/signature>/,
        '<signature>UNSIGNED</signature>',
      ),
      'latin1',
    );
    expect((await run(c, dir)).message).toContain('is UNSIGNED');
    const allowed = await run(c, dir, { allowUnsigned: true });
    expect(allowed.r.ok && allowed.r.value.signature).toBe('unsigned');
  });
});

function flip(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  writeFileSync(path, bytes);
}

function edit(path: string, from: string, to: string): void {
  const xml = readFileSync(path, 'latin1');
  if (!xml.includes(from)) throw new Error(`${from} not in ${path}`);
  writeFileSync(path, xml.replace(from, to), 'latin1');
}

function otherKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
}
