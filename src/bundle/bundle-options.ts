// Checks of bundle settings before any heavy work: architecture, account, prefix, part
// size, encryption key text, certificates and keys, and the euca2ools rules tying kernel
// and ramdisk ids to the image type (spec §2.1). Pure; no files.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import type { BundleFailure } from './bundle-failure.js';
import type { BlockDeviceMapping, ImageType } from './manifest.js';
import { publicKeyOf } from './rsa.js';

/** Architectures euca-bundle-image accepts for `-r` (spec §2.1). */
export const ARCHITECTURES = ['i386', 'x86_64', 'armhf', 'ppc', 'ppc64', 'ppc64le'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** euca2ools' default part size: 10 MiB. */
export const DEFAULT_PART_SIZE = 10 * 1024 * 1024;

/** The machine_configuration settings that may be decided after the parts exist. */
export interface ManifestSettings {
  readonly architecture?: string;
  /** An eki id for a machine image; for a kernel image only the literal `true` (as `--kernel true`). */
  readonly kernelId?: string;
  /** An eri id for a machine image; for a ramdisk image only the literal `true`. */
  readonly ramdiskId?: string;
  /** Machine images only: written sorted by virtual name. */
  readonly blockDeviceMapping?: readonly BlockDeviceMapping[];
  /** Machine images only (ignored for kernel and ramdisk, as euca2ools does). */
  readonly productCodes?: readonly string[];
}

type Check<T = undefined> = Result<T, BundleFailure>;

const invalid = (option: string, value: string, expected: string): Check<never> =>
  err({ reason: 'invalid-option', option, value, expected });

export function checkArchitecture(arch: string): Check<Architecture> {
  return (ARCHITECTURES as readonly string[]).includes(arch)
    ? ok(arch as Architecture)
    : invalid('arch', arch, `one of ${ARCHITECTURES.join(', ')}`);
}

/** The account id with dashes removed (as euca2ools), which must leave only digits. */
export function checkAccount(account: string): Check<string> {
  const digits = account.replace(/-/g, '');
  return /^[0-9]+$/.test(digits)
    ? ok(digits)
    : invalid('account', account, 'an account id of digits, such as 123456789012');
}

/** A prefix is a plain file name (no `/`), short enough for `PREFIX.part.NN` temp names. */
export function checkPrefix(prefix: string): Check<string> {
  if (prefix === '' || prefix === '.' || prefix === '..' || /[/\0]/.test(prefix))
    return invalid('prefix', prefix, 'a plain file name without /');
  if (Buffer.byteLength(prefix) > 200) return invalid('prefix', prefix, 'at most 200 bytes');
  return ok(prefix);
}

export function checkPartSize(partSize: number): Check<number> {
  return Number.isSafeInteger(partSize) && partSize > 0
    ? ok(partSize)
    : invalid('partSize', String(partSize), 'a positive whole number of bytes');
}

/** `--enc-key`/`--enc-iv`: 32 hex digits, returned lower-case (spec §2.2). */
export function checkHex128(
  option: 'encryption.keyHex' | 'encryption.ivHex',
  text: string,
): Check<string> {
  return /^[0-9a-fA-F]{32}$/.test(text)
    ? ok(text.toLowerCase())
    : invalid(option, '(hidden)', '32 hexadecimal digits');
}

/** The RSA public key of a PEM certificate. */
export function checkCertificate(role: 'user' | 'cloud' | 'verify', pem: string): Check<KeyObject> {
  if (!/-----BEGIN (CERTIFICATE|PUBLIC KEY)-----/.test(pem))
    return err({
      reason: 'certificate-invalid',
      role,
      problem: 'not a PEM certificate (no BEGIN CERTIFICATE line)',
    });
  try {
    const key = publicKeyOf(pem);
    if (key.asymmetricKeyType !== 'rsa')
      return err({
        reason: 'certificate-invalid',
        role,
        problem: `its key is ${key.asymmetricKeyType ?? 'unknown'}, not RSA`,
      });
    return ok(key);
  } catch (error) {
    return err({ reason: 'certificate-invalid', role, problem: firstLine(error) });
  }
}

export function checkPrivateKey(pem: string): Check<KeyObject> {
  if (!/-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----/.test(pem))
    return err({
      reason: 'private-key-invalid',
      problem: 'not a PEM private key (no BEGIN … PRIVATE KEY line)',
    });
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa')
      return err({
        reason: 'private-key-invalid',
        problem: `it is ${key.asymmetricKeyType ?? 'unknown'}, not RSA`,
      });
    return ok(key);
  } catch (error) {
    return err({ reason: 'private-key-invalid', problem: firstLine(error) });
  }
}

/** SHA-256 (hex) of a public key's SPKI DER: identifies a certificate's key without secrets. */
export function publicKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * euca2ools' rules (spec §2.1): a kernel image takes no ramdisk id, no block device
 * mapping and only `true` as kernel id; a ramdisk image the same the other way round; a
 * machine image takes real ids (not `true`). Returns the settings as they will be written.
 */
export function checkManifestSettings(
  type: ImageType,
  settings: ManifestSettings,
): Check<ManifestSettings> {
  const { kernelId, ramdiskId } = settings;
  const mappings = settings.blockDeviceMapping ?? [];
  if (settings.architecture !== undefined) {
    const arch = checkArchitecture(settings.architecture);
    if (!arch.ok) return arch;
  }
  for (const [name, id] of [
    ['kernelId', kernelId],
    ['ramdiskId', ramdiskId],
  ] as const) {
    if (id !== undefined && (id === '' || /\s/.test(id)))
      return invalid(name, id, 'an image id without spaces');
  }
  if (type !== 'machine' && mappings.length > 0)
    return invalid('blockDeviceMapping', describeMappings(mappings), `nothing for a ${type} image`);
  if (type === 'kernel') {
    if (kernelId !== undefined && kernelId !== 'true')
      return invalid('kernelId', kernelId, "nothing or 'true' for a kernel image");
    if (ramdiskId !== undefined)
      return invalid('ramdiskId', ramdiskId, 'nothing for a kernel image');
  } else if (type === 'ramdisk') {
    if (ramdiskId !== undefined && ramdiskId !== 'true')
      return invalid('ramdiskId', ramdiskId, "nothing or 'true' for a ramdisk image");
    if (kernelId !== undefined) return invalid('kernelId', kernelId, 'nothing for a ramdisk image');
  } else {
    if (kernelId === 'true' || kernelId === 'yes')
      return invalid(
        'kernelId',
        kernelId,
        'an eki-… id for a machine image (use image type kernel)',
      );
    if (ramdiskId === 'true' || ramdiskId === 'yes')
      return invalid(
        'ramdiskId',
        ramdiskId,
        'an eri-… id for a machine image (use image type ramdisk)',
      );
  }
  for (const m of mappings) {
    if (m.virtual === '' || m.device === '' || /\s/.test(m.virtual + m.device))
      return invalid(
        'blockDeviceMapping',
        describeMappings([m]),
        'virtual=device pairs such as root=/dev/sda1',
      );
  }
  for (const code of settings.productCodes ?? []) {
    if (code === '' || /\s/.test(code))
      return invalid('productCodes', code, 'product codes without spaces');
  }
  return ok({
    ...settings,
    ...(type === 'machine' ? {} : { blockDeviceMapping: [], productCodes: [] }),
  });
}

function describeMappings(mappings: readonly BlockDeviceMapping[]): string {
  return mappings.map((m) => `${m.virtual}=${m.device}`).join(',');
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
