// The bundle manifest (PREFIX.manifest.xml): its data, written byte for byte as euca2ools
// 3.4.1 writes it, and signed. Reading it back is manifest-read.ts. The one contract shared
// by the bundler, the unbundler and the cloud side. Facts: spec/ec2-bundle-format.md §2.9,
// §2.10.
import { signSha1 } from './rsa.js';

export const IMAGE_TYPES = ['machine', 'kernel', 'ramdisk'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** `<bundler>`: who made the bundle. Eucalyptus does not read it. */
export interface BundlerInfo {
  readonly name: string;
  readonly version: string;
  readonly release: string;
}

export interface BlockDeviceMapping {
  readonly virtual: string;
  readonly device: string;
}

export interface MachineConfiguration {
  readonly architecture: string;
  /** Written only for machine images; sorted by virtual name when written (as euca2ools). */
  readonly blockDeviceMapping?: readonly BlockDeviceMapping[];
  /** Written only for machine images, in the order given. */
  readonly productCodes?: readonly string[];
  /** An eki id, or the literal `true` for a kernel bundle. */
  readonly kernelId?: string;
  /** An eri id, or the literal `true` for a ramdisk bundle. */
  readonly ramdiskId?: string;
}

export interface ManifestPart {
  readonly filename: string;
  /** Lower-case hex SHA-1 of the part file's bytes. */
  readonly digest: string;
}

/** `<image>`: everything about the bundled bytes. Encrypted values are hex RSA blocks. */
export interface ManifestImage {
  readonly name: string;
  /** Account id, digits only. */
  readonly user: string;
  readonly type: ImageType;
  /** Lower-case hex SHA-1 of the whole tar stream (not of the image). */
  readonly digest: string;
  /** Image size in bytes. */
  readonly size: number;
  /** Sum of the part sizes (= ciphertext length). */
  readonly bundledSize: number;
  readonly ec2EncryptedKey: string;
  readonly userEncryptedKey: string;
  readonly ec2EncryptedIv: string;
  readonly userEncryptedIv: string;
  readonly parts: readonly ManifestPart[];
}

export interface ManifestData {
  readonly bundler: BundlerInfo;
  readonly machineConfiguration: MachineConfiguration;
  readonly image: ManifestImage;
}

const DECLARATION = "<?xml version='1.0' encoding='ASCII'?>\n";

/** XML text escaping as lxml writes ASCII: & < > escaped, non-ASCII as character references. */
export function escapeXmlText(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '&') out += '&amp;';
    else if (char === '<') out += '&lt;';
    else if (char === '>') out += '&gt;';
    else if (code > 0x7e) out += `&#${code};`;
    else out += char;
  }
  return out;
}

const el = (name: string, text: string, attrs = ''): string =>
  `<${name}${attrs}>${escapeXmlText(text)}</${name}>`;

/** `<machine_configuration>…</machine_configuration>` exactly as euca2ools serialises it. */
export function renderMachineConfiguration(config: MachineConfiguration, type: ImageType): string {
  let out = '<machine_configuration>';
  out += el('architecture', config.architecture);
  const mappings = type === 'machine' ? (config.blockDeviceMapping ?? []) : [];
  if (mappings.length > 0) {
    const sorted = [...mappings].sort((a, b) =>
      a.virtual < b.virtual ? -1 : a.virtual > b.virtual ? 1 : 0,
    );
    out += `<block_device_mapping>${sorted.map((m) => `<mapping>${el('virtual', m.virtual)}${el('device', m.device)}</mapping>`).join('')}</block_device_mapping>`;
  }
  const codes = type === 'machine' ? (config.productCodes ?? []) : [];
  if (codes.length > 0)
    out += `<product_codes>${codes.map((c) => el('product_code', c)).join('')}</product_codes>`;
  if (config.kernelId !== undefined) out += el('kernel_id', config.kernelId);
  if (config.ramdiskId !== undefined) out += el('ramdisk_id', config.ramdiskId);
  return `${out}</machine_configuration>`;
}

/** `<image>…</image>` exactly as euca2ools serialises it. */
export function renderImage(image: ManifestImage): string {
  const parts = image.parts
    .map(
      (p, i) =>
        `<part index="${i}">${el('filename', p.filename)}${el('digest', p.digest, ' algorithm="SHA1"')}</part>`,
    )
    .join('');
  return (
    '<image>' +
    el('name', image.name) +
    el('user', image.user) +
    el('type', image.type) +
    el('digest', image.digest, ' algorithm="SHA1"') +
    el('size', String(image.size)) +
    el('bundled_size', String(image.bundledSize)) +
    el('ec2_encrypted_key', image.ec2EncryptedKey, ' algorithm="AES-128-CBC"') +
    el('user_encrypted_key', image.userEncryptedKey, ' algorithm="AES-128-CBC"') +
    el('ec2_encrypted_iv', image.ec2EncryptedIv) +
    el('user_encrypted_iv', image.userEncryptedIv) +
    `<parts count="${image.parts.length}">${parts}</parts>` +
    '</image>'
  );
}

/**
 * The complete manifest file text, signed with `privateKeyPem` (RSA-SHA1 over the
 * machine_configuration and image elements exactly as written), or `UNSIGNED`
 * without a key, as euca2ools does. No trailing newline.
 */
export function renderSignedManifest(
  data: ManifestData,
  privateKeyPem: string | undefined,
): string {
  const config = renderMachineConfiguration(data.machineConfiguration, data.image.type);
  const image = renderImage(data.image);
  const signature =
    privateKeyPem === undefined
      ? 'UNSIGNED'
      : signSha1(Buffer.from(config + image, 'latin1'), privateKeyPem);
  const bundler = `<bundler>${el('name', data.bundler.name)}${el('version', data.bundler.version)}${el('release', data.bundler.release)}</bundler>`;
  return `${DECLARATION}<manifest><version>2007-10-10</version>${bundler}${config}${image}${el('signature', signature)}</manifest>`;
}
