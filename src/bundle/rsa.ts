// RSA as EC2 bundles use it: the AES key and IV (as 32-character hex text) encrypted
// with PKCS#1 v1.5 for a certificate, and RSA-SHA1 manifest signatures
// (spec/ec2-bundle-format.md §2.8, §2.10). Pure crypto; no files.
import {
  constants,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  sign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';

/** The public key inside a PEM certificate (or a PEM public key). Throws on bad PEM. */
export function publicKeyOf(certOrKeyPem: string): KeyObject {
  if (certOrKeyPem.includes('BEGIN CERTIFICATE'))
    return new X509Certificate(certOrKeyPem).publicKey;
  return createPublicKey(certOrKeyPem);
}

/**
 * Encrypts `text` (the 32 hex characters of a key or IV, as ASCII) for the holder of
 * `certPem`: RSA PKCS#1 v1.5 type 2, random padding, as `openssl rsautl -encrypt`.
 * Returns lower-case hex of the whole RSA block.
 */
export function encryptForCertificate(text: string, certPem: string): string {
  return publicEncrypt(
    { key: publicKeyOf(certPem), padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(text, 'latin1'),
  ).toString('hex');
}

export type RsaDecryptFailure = 'not-hex' | 'wrong-length' | 'bad-padding';

/**
 * Decrypts a value made by encryptForCertificate with the matching private key.
 * Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809, the Marvin timing
 * attack: https://nodejs.org/en/blog/vulnerability/february-2024-security-releases),
 * so the raw RSA operation is done and the padding removed here. This code decrypts
 * bundle keys offline or in the loopback test cloud, where no attacker can measure
 * timings; it answers any bad padding with the same failure.
 */
export function decryptWithPrivateKey(
  hexCipher: string,
  keyPem: string,
): Result<string, RsaDecryptFailure> {
  if (!/^[0-9a-fA-F]+$/.test(hexCipher) || hexCipher.length % 2 !== 0) return err('not-hex');
  const cipher = Buffer.from(hexCipher, 'hex');
  let block: Buffer;
  try {
    block = privateDecrypt({ key: keyPem, padding: constants.RSA_NO_PADDING }, cipher);
  } catch {
    return err('wrong-length');
  }
  // EM = 0x00 || 0x02 || PS (>= 8 non-zero bytes) || 0x00 || M   (RFC 8017 §7.2.2)
  if (block[0] !== 0x00 || block[1] !== 0x02) return err('bad-padding');
  const separator = block.indexOf(0x00, 2);
  if (separator < 10) return err('bad-padding');
  return ok(block.subarray(separator + 1).toString('latin1'));
}

/** RSA PKCS#1 v1.5 signature over SHA-1 of `data`, lower-case hex (deterministic). */
export function signSha1(data: Uint8Array, keyPem: string): string {
  return sign('sha1', data, keyPem).toString('hex');
}

/** True when `signatureHex` is a valid RSA-SHA1 signature of `data` by the certificate's key. */
export function verifySha1(data: Uint8Array, signatureHex: string, certPem: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(signatureHex)) return false;
  try {
    return verify('sha1', data, publicKeyOf(certPem), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** True when the private key belongs to the certificate (compares the public keys). */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  try {
    const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    const fromCert = publicKeyOf(certPem).export({ type: 'spki', format: 'der' });
    return Buffer.compare(fromKey, fromCert) === 0;
  } catch {
    return false;
  }
}
