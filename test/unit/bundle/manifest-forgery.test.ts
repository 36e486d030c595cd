// Signature wrapping: real signed euca2ools manifests with their signed elements hidden
// where a naive reader finds them first, and other values in the real elements. The
// manifest reader, the unbundler's checks and everything reading a manifest must refuse.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { parseManifest, verifyManifestSignature } from '../../../src/bundle/manifest-read.js';
import { prepareUnbundle } from '../../../src/bundle/unbundle-checks.js';
import { resignManifest } from '../../helpers/bundles.js';
import { signedElements, wrapSignedElements, WRAPPINGS } from '../../helpers/forged-manifests.js';
import {
  GOLDEN_CASES,
  goldenBundlePath,
  goldenKey,
  type GoldenCase,
} from '../../helpers/golden.js';

const golden = (name: string): GoldenCase => GOLDEN_CASES.find((c) => c.name === name)!;
const manifestText = (c: GoldenCase): string =>
  readFileSync(goldenBundlePath(c, c.manifest), 'latin1');
const kernelXml = manifestText(golden('kernel'));
const ramdiskXml = manifestText(golden('ramdisk'));

const work = mkdtempSync(join(tmpdir(), 'emi-forgery-'));
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The kernel's signature over a copy of its signed elements, the ramdisk's values for real. */
const forged = (how: (typeof WRAPPINGS)[number]): string =>
  wrapSignedElements(kernelXml, signedElements(ramdiskXml), how);

describe.each(WRAPPINGS)('signed elements hidden as %s', (how) => {
  test('the manifest is refused, naming what is wrong', () => {
    const r = parseManifest(forged(how));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.problem).toMatch(
      /comment|CDATA|processing instruction|< is not allowed|does not belong|more than once/,
    );
  });

  test('the unbundler refuses it before deciding anything about the signature', async () => {
    const path = join(work, `${how}.manifest.xml`);
    writeFileSync(path, forged(how), 'latin1');
    const r = await prepareUnbundle({
      manifestPath: path,
      privateKeyPem: goldenKey('user-key'),
    });
    expect(r).toMatchObject({ ok: false, error: { reason: 'manifest-invalid' } });
  });
});

describe('the signed text is exactly the elements the values come from', () => {
  test('an untouched golden manifest still verifies', () => {
    const r = parseManifest(kernelXml);
    expect(r.ok && verifyManifestSignature(r.value, goldenKey('user-cert'))).toBe(true);
  });

  test('a DOCTYPE that redefines &lt; cannot change a signed value under the same signature', async () => {
    // The signer wrote <name>vmlinuz&lt;golden</name>; a DOCTYPE outside the signed bytes
    // would make a lax reader see another name with the signature still valid.
    const signed = await resignManifest(
      goldenBundlePath(golden('kernel'), golden('kernel').manifest),
      (d) => ({ ...d, image: { ...d.image, name: 'vmlinuz<golden' } }),
      goldenKey('user-key'),
    );
    const plain = parseManifest(signed);
    expect(plain.ok && plain.value.image.name).toBe('vmlinuz<golden');
    expect(plain.ok && verifyManifestSignature(plain.value, goldenKey('user-cert'))).toBe(true);
    const withDoctype = signed.replace(
      '<manifest>',
      '<!DOCTYPE manifest [<!ENTITY lt "-evil-">]><manifest>',
    );
    expect(parseManifest(withDoctype)).toMatchObject({
      ok: false,
      error: { field: '(document)', problem: expect.stringMatching(/DOCTYPE/) as unknown },
    });
  });

  test('an entity that is not one of the five predefined ones is refused', () => {
    expect(
      parseManifest(kernelXml.replace('<name>euca2ools</name>', '<name>&ext;</name>')),
    ).toMatchObject({ ok: false, error: { problem: expect.stringMatching(/&ext;/) as unknown } });
  });

  test('signed tags with attributes or spaces are refused (other verifiers cut the literal tags)', () => {
    for (const xml of [
      kernelXml.replace('<image>', '<image id="x">'),
      kernelXml.replace('</image>', '</image >'),
      kernelXml.replace('<machine_configuration>', '<machine_configuration >'),
    ])
      expect(parseManifest(xml)).toMatchObject({ ok: false });
  });

  test('a value element outside its place, or twice, is refused (Eucalyptus reads //user)', () => {
    const cases: [string, RegExp][] = [
      [
        kernelXml.replace('<architecture>', '<user>999999999999</user><architecture>'),
        /does not belong inside <machine_configuration>/,
      ],
      [
        kernelXml.replace(
          '<kernel_id>true</kernel_id>',
          '<kernel_id>true</kernel_id><kernel_id>eki-1</kernel_id>',
        ),
        /more than once/,
      ],
      [kernelXml.replace('<size>3145851</size>', '<size>3145851<b/></size>'), /text only/],
      [kernelXml.replace('<parts count="1">', '<parts count="1">x'), /elements only/],
      [`${kernelXml}<manifest/>`, /after the end of the root/],
      [`${kernelXml}<!-- trailing -->`, /comments/],
      [kernelXml.replace('<name>euca2ools</name>', '<name>eucaé</name>'), /ASCII/],
      [kernelXml.replace('<name>vmlinuz-golden</name>', '<name>vmlinuz\r\n</name>'), /carriage/],
    ];
    for (const [xml, problem] of cases) {
      const r = parseManifest(xml);
      expect(!r.ok && r.error.problem).toMatch(problem);
    }
  });

  test('character references stay accepted, as lxml writes non-ASCII text', () => {
    const r = parseManifest(kernelXml.replace('<name>euca2ools</name>', '<name>euca&#233;</name>'));
    expect(r.ok && r.value.bundler.name).toBe('eucaé');
  });

  test('part file names that are not plain names are refused', () => {
    for (const name of ['.', '..', 'a/b', 'a\\b', ''])
      expect(
        parseManifest(
          kernelXml.replace(
            '<filename>vmlinuz-golden.part.00</filename>',
            `<filename>${name}</filename>`,
          ),
        ),
      ).toMatchObject({ ok: false, error: { field: 'image/parts/part[0]/filename' } });
  });
});

describe('the strict reader never throws', () => {
  test('on 2000 random edits of a golden manifest it returns a result', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '<>/&;#x=\'"![]?-CDATA \n\rmanifestimage\u00e9\u0000';
    let accepted = 0;
    for (let i = 0; i < 2000; i += 1) {
      const at = random(kernelXml.length);
      const insert = Array.from(
        { length: 1 + random(6) },
        () => alphabet[random(alphabet.length)],
      ).join('');
      const edited = kernelXml.slice(0, at) + insert + kernelXml.slice(at + random(4));
      const r = parseManifest(edited);
      if (r.ok) {
        accepted += 1;
        // Whatever is accepted, the signature covers exactly what was read.
        expect(r.value.signedText).toBe(
          signedElements(edited).config + signedElements(edited).image,
        );
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});
