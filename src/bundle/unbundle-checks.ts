// The checks an unbundle makes before reading any part: the manifest's syntax, the private
// key, unwrapping the AES key and IV (user copy, then cloud copy, as euca2ools), and the
// signature. Returns the key material for the stream; never logs it.
import { createPublicKey } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import type { BundleFailure } from './bundle-failure.js';
import { checkCertificate, checkPrivateKey } from './bundle-options.js';
import {
  MANIFEST_MAX_BYTES,
  parseManifest,
  verifyManifestSignature,
  type ParsedManifest,
} from './manifest-read.js';
import { describeFileProblem, readRegularFile } from './regular-file.js';
import { decryptWithPrivateKey } from './rsa.js';

const HEX32 = /^[0-9a-fA-F]{32}$/;

/** What the checks before any part is read need (unbundle's options extend it). */
export interface UnbundleCheckOptions {
  readonly manifestPath: string;
  /** The user's private key (user_encrypted_*) or the cloud's (ec2_encrypted_*), PEM. */
  readonly privateKeyPem: string;
  /** How to name the key in messages (e.g. its file name). */
  readonly privateKeyName?: string;
  /** Verify the signature against this certificate (PEM). */
  readonly certPem?: string;
  /** How to name the certificate in messages (e.g. its file name). */
  readonly certName?: string;
  /** Accept a manifest whose signature is `UNSIGNED` (default: refuse). */
  readonly allowUnsigned?: boolean;
}

/**
 * `verified`: against certPem, or, without it, against the public half of the user key.
 * `not-checked`: the cloud key opened the bundle and no certificate was given.
 */
export type SignatureOutcome = 'verified' | 'not-checked' | 'unsigned';

export interface PreparedUnbundle {
  readonly manifest: ParsedManifest;
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly keySource: 'user' | 'cloud';
  readonly signature: SignatureOutcome;
}

/** Manifest, key unwrapping and signature: everything checked before any part is read. */
export async function prepareUnbundle(
  options: UnbundleCheckOptions,
): Promise<Result<PreparedUnbundle, BundleFailure>> {
  const privateKey = checkPrivateKey(options.privateKeyPem);
  if (!privateKey.ok) return privateKey;
  const text = await readManifestText(options.manifestPath);
  if (!text.ok) return text;
  const parsed = parseManifest(text.value);
  if (!parsed.ok) return parsed;
  const manifest = parsed.value;
  const name = manifest.image.name;
  if (name === '' || name === '.' || name === '..' || /[/\0]/.test(name))
    return err({
      reason: 'manifest-invalid',
      field: 'image/name',
      problem: `not a plain file name: '${name}'`,
    });

  const tried: ('user' | 'cloud')[] = [];
  let unwrapped: { key: string; iv: string; source: 'user' | 'cloud' } | undefined;
  const copies = [
    {
      source: 'user' as const,
      key: manifest.image.userEncryptedKey,
      iv: manifest.image.userEncryptedIv,
    },
    {
      source: 'cloud' as const,
      key: manifest.image.ec2EncryptedKey,
      iv: manifest.image.ec2EncryptedIv,
    },
  ];
  for (const copy of copies) {
    if (copy.key === '' || copy.iv === '') continue;
    tried.push(copy.source);
    const k = decryptWithPrivateKey(copy.key.trim(), options.privateKeyPem);
    const i = decryptWithPrivateKey(copy.iv.trim(), options.privateKeyPem);
    if (k.ok && i.ok && HEX32.test(k.value) && HEX32.test(i.value)) {
      unwrapped = { key: k.value, iv: i.value, source: copy.source };
      break;
    }
  }
  if (unwrapped === undefined) return err({ reason: 'key-undecryptable', tried });

  let signature: SignatureOutcome;
  if (manifest.signature === 'UNSIGNED') {
    if (options.allowUnsigned !== true)
      return err({ reason: 'manifest-unsigned', path: options.manifestPath });
    signature = 'unsigned';
  } else if (options.certPem !== undefined) {
    const cert = checkCertificate('verify', options.certPem);
    if (!cert.ok) return cert;
    if (!verifyManifestSignature(manifest, options.certPem))
      return err({
        reason: 'signature-invalid',
        against: options.certName ?? 'the given certificate',
      });
    signature = 'verified';
  } else if (unwrapped.source === 'user') {
    // The user key opened its own copy of the key, so it is the bundler's key: its public
    // half must verify the signature.
    const publicPem = createPublicKey(privateKey.value)
      .export({ type: 'spki', format: 'pem' })
      .toString();
    if (!verifyManifestSignature(manifest, publicPem))
      return err({
        reason: 'signature-invalid',
        against: `the public key of ${options.privateKeyName ?? 'the private key'}`,
      });
    signature = 'verified';
  } else {
    signature = 'not-checked';
  }
  return ok({
    manifest,
    key: Buffer.from(unwrapped.key, 'hex'),
    iv: Buffer.from(unwrapped.iv, 'hex'),
    keySource: unwrapped.source,
    signature,
  });
}

/**
 * The manifest's text (latin1), read from a regular file only and never more than
 * MANIFEST_MAX_BYTES: a manifest path that leads to /dev/zero or a FIFO would otherwise
 * be read (or waited on) forever.
 */
async function readManifestText(path: string): Promise<Result<string, BundleFailure>> {
  const read = await readRegularFile(path, { maxBytes: MANIFEST_MAX_BYTES });
  if (read.ok) return ok(read.value.toString('latin1'));
  return read.error.problem === 'too-large'
    ? err({
        reason: 'manifest-invalid',
        field: '(document)',
        problem: describeFileProblem(read.error),
      })
    : err({ reason: 'manifest-unreadable', path, code: describeFileProblem(read.error) });
}
