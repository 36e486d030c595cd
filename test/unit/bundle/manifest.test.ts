// The manifest module against the real euca2ools 3.4.1 manifests.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { renderSignedManifest } from '../../../src/bundle/manifest.js';
import {
  effectiveImageType,
  parseManifest,
  verifyManifestSignature,
  type ParsedManifest,
} from '../../../src/bundle/manifest-read.js';
import {
  decryptWithPrivateKey,
  encryptForCertificate,
  keyMatchesCertificate,
} from '../../../src/bundle/rsa.js';
import { GOLDEN_CASES, goldenBundlePath, goldenKey } from '../../helpers/golden.js';

function load(c: (typeof GOLDEN_CASES)[number]): { xml: string; manifest: ParsedManifest } {
  const xml = readFileSync(goldenBundlePath(c, c.manifest), 'latin1');
  const parsed = parseManifest(xml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  return { xml, manifest: parsed.value };
}

describe.each(GOLDEN_CASES)('golden $name manifest', (c) => {
  test('parses with the expected facts', () => {
    const { manifest } = load(c);
    expect(manifest.image).toMatchObject({
      type: c.type,
      size: c.size,
      bundledSize: c.bundledSize,
      digest: c.digest,
      user: '123456789012',
    });
    expect(manifest.image.parts).toHaveLength(c.parts);
    expect(manifest.bundler).toEqual({ name: 'euca2ools', version: '3.4.1', release: '0' });
  });

  test('signature verifies with the user certificate, not with the cloud one', () => {
    const { manifest } = load(c);
    expect(verifyManifestSignature(manifest, goldenKey('user-cert'))).toBe(true);
    expect(verifyManifestSignature(manifest, goldenKey('cloud-cert'))).toBe(false);
  });

  test('re-rendering with the same key gives the same bytes as euca2ools', () => {
    const { xml, manifest } = load(c);
    expect(renderSignedManifest(manifest, goldenKey('user-key'))).toBe(xml);
  });

  test('key and IV decrypt with the user key and with the cloud key', () => {
    const { manifest } = load(c);
    expect(decryptWithPrivateKey(manifest.image.userEncryptedKey, goldenKey('user-key'))).toEqual({
      ok: true,
      value: c.key,
    });
    expect(decryptWithPrivateKey(manifest.image.userEncryptedIv, goldenKey('user-key'))).toEqual({
      ok: true,
      value: c.iv,
    });
    expect(decryptWithPrivateKey(manifest.image.ec2EncryptedKey, goldenKey('cloud-key'))).toEqual({
      ok: true,
      value: c.key,
    });
    expect(decryptWithPrivateKey(manifest.image.ec2EncryptedIv, goldenKey('cloud-key'))).toEqual({
      ok: true,
      value: c.iv,
    });
  });

  test('the type Eucalyptus would decide matches', () => {
    expect(effectiveImageType(load(c).manifest, c.manifest)).toBe(c.type);
  });
});

describe('manifest edge cases', () => {
  const { xml } = load(GOLDEN_CASES[0]);

  test('an edited signed field breaks the signature', () => {
    const edited = parseManifest(xml.replace('<size>3145851</size>', '<size>3145852</size>'));
    expect(edited.ok && verifyManifestSignature(edited.value, goldenKey('user-cert'))).toBe(false);
  });

  test('the wrong key fails to decrypt (padding), never returns garbage as success', () => {
    const { manifest } = load(GOLDEN_CASES[0]);
    const r = decryptWithPrivateKey(manifest.image.userEncryptedKey, goldenKey('cloud-key'));
    expect(r).toEqual({ ok: false, error: 'bad-padding' });
  });

  test('malformed manifests name the field', () => {
    expect(parseManifest('<manifest><image>')).toMatchObject({ ok: false });
    expect(
      parseManifest(
        xml.replace(
          /<digest algorithm="SHA1">ef5d[0-9a-f]+<\/digest>/,
          '<digest algorithm="SHA1">nothex</digest>',
        ),
      ),
    ).toMatchObject({
      ok: false,
      error: { field: 'image/digest' },
    });
    expect(
      parseManifest(
        xml.replace(
          '<filename>vmlinuz-golden.part.00</filename>',
          '<filename>../../etc/passwd</filename>',
        ),
      ),
    ).toMatchObject({
      ok: false,
      error: { field: 'image/parts/part[0]/filename' },
    });
    expect(parseManifest(xml.replace('<parts count="1">', '<parts count="2">'))).toMatchObject({
      ok: false,
      error: { field: 'image/parts' },
    });
  });

  test('encrypt/decrypt round trip and key/cert matching', () => {
    const hex = encryptForCertificate('0123456789abcdef0123456789abcdef', goldenKey('user-cert'));
    expect(hex).toMatch(/^[0-9a-f]{512}$/);
    expect(decryptWithPrivateKey(hex, goldenKey('user-key'))).toEqual({
      ok: true,
      value: '0123456789abcdef0123456789abcdef',
    });
    expect(keyMatchesCertificate(goldenKey('user-key'), goldenKey('user-cert'))).toBe(true);
    expect(keyMatchesCertificate(goldenKey('user-key'), goldenKey('cloud-cert'))).toBe(false);
  });

  test('effective type follows the Eucalyptus file-name rule', () => {
    const { manifest } = load(GOLDEN_CASES[1]);
    expect(effectiveImageType(manifest, 'vmlinuz-x.manifest.xml')).toBe('kernel');
    expect(effectiveImageType(manifest, 'bucket/initrd.img.manifest.xml')).toBe('ramdisk');
  });
});
