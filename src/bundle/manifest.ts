// The bundle manifest (PREFIX.manifest.xml): written byte for byte as euca2ools 3.4.1
// writes it, signed, and read back with fast-xml-parser. The one contract shared by the
// bundler, the unbundler and the cloud side. Facts: spec/ec2-bundle-format.md §2.9, §2.10, §6.2.
import { XMLParser } from 'fast-xml-parser';
import { err, ok, type Result } from '../core/result.js';
import { signSha1, verifySha1 } from './rsa.js';

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

/** A manifest read back: the data, its signature and the exact bytes that were signed. */
export interface ParsedManifest extends ManifestData {
  readonly version: string;
  readonly signature: string;
  /**
   * The raw text from the first `<machine_configuration>` to its end tag followed by
   * the raw text of the first `<image>` element, as Eucalyptus verifiers cut them
   * (spec §2.10); undefined when either is missing.
   */
  readonly signedText?: string;
}

/** Why a manifest could not be read: the element concerned and what is wrong with it. */
export interface ManifestInvalid {
  readonly reason: 'manifest-invalid';
  /** Path of the offending element, e.g. `image/parts/part[2]/digest`. */
  readonly field: string;
  readonly problem: string;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  isArray: (name) => ['part', 'mapping', 'product_code'].includes(name),
});

type Node = Record<string, unknown>;

/** Parses manifest text; every missing or malformed field is named in the failure. */
export function parseManifest(xml: string): Result<ParsedManifest, ManifestInvalid> {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (error) {
    return err({
      reason: 'manifest-invalid',
      field: '(document)',
      problem: `not well-formed XML: ${(error as Error).message}`,
    });
  }
  const manifest = doc.manifest;
  if (manifest === undefined || typeof manifest !== 'object' || manifest === null) {
    return err({
      reason: 'manifest-invalid',
      field: 'manifest',
      problem: 'no <manifest> root element',
    });
  }
  const fail = (field: string, problem: string): Result<ParsedManifest, ManifestInvalid> =>
    err({ reason: 'manifest-invalid', field, problem });
  const m = manifest as Node;
  const text = (node: unknown): string | undefined => {
    if (typeof node === 'string') return node;
    if (node !== null && typeof node === 'object' && '#text' in node)
      return String((node as Node)['#text']);
    if (
      node !== null &&
      typeof node === 'object' &&
      Object.keys(node).every((k) => k.startsWith('@'))
    )
      return '';
    return undefined;
  };
  const config = (m.machine_configuration ?? {}) as Node;
  const image = m.image as Node | undefined;
  if (image === undefined || typeof image !== 'object') return fail('image', 'missing');
  const fields: Record<string, string | undefined> = {};
  for (const name of [
    'name',
    'user',
    'type',
    'digest',
    'size',
    'bundled_size',
    'ec2_encrypted_key',
    'user_encrypted_key',
    'ec2_encrypted_iv',
    'user_encrypted_iv',
  ]) {
    fields[name] = text(image[name]);
  }
  for (const name of [
    'name',
    'user',
    'type',
    'digest',
    'size',
    'bundled_size',
    'ec2_encrypted_key',
    'ec2_encrypted_iv',
  ]) {
    if (fields[name] === undefined) return fail(`image/${name}`, 'missing');
  }
  const type = fields.type ?? '';
  if (!(IMAGE_TYPES as readonly string[]).includes(type))
    return fail('image/type', `expected machine, kernel or ramdisk, got '${type}'`);
  const digest = fields.digest ?? '';
  if (!/^[0-9a-f]{40}$/i.test(digest))
    return fail('image/digest', `expected 40 hex digits (SHA-1), got '${digest}'`);
  const size = Number(fields.size);
  if (!/^\d+$/.test(fields.size ?? '') || !Number.isSafeInteger(size))
    return fail('image/size', `expected a byte count, got '${fields.size ?? ''}'`);
  const bundledSize = Number(fields.bundled_size);
  if (!/^\d+$/.test(fields.bundled_size ?? '') || !Number.isSafeInteger(bundledSize)) {
    return fail('image/bundled_size', `expected a byte count, got '${fields.bundled_size ?? ''}'`);
  }
  const partsNode = image.parts as Node | undefined;
  if (partsNode === undefined || typeof partsNode !== 'object')
    return fail('image/parts', 'missing');
  const partList = (partsNode.part ?? []) as Node[];
  const count = Number(partsNode['@count']);
  if (partsNode['@count'] !== undefined && count !== partList.length) {
    return fail(
      'image/parts',
      `count="${text(partsNode['@count']) ?? ''}" but ${partList.length} <part> elements`,
    );
  }
  const parts: ManifestPart[] = [];
  for (const [i, part] of partList.entries()) {
    if (Number(part['@index']) !== i)
      return fail(`image/parts/part[${i}]`, `index="${String(part['@index'])}", expected ${i}`);
    const filename = text(part.filename);
    const partDigest = text(part.digest);
    if (!filename || filename.includes('/') || filename === '..')
      return fail(`image/parts/part[${i}]/filename`, `not a plain file name: '${filename ?? ''}'`);
    if (!partDigest || !/^[0-9a-f]{40}$/i.test(partDigest))
      return fail(
        `image/parts/part[${i}]/digest`,
        `expected 40 hex digits (SHA-1), got '${partDigest ?? ''}'`,
      );
    parts.push({ filename, digest: partDigest.toLowerCase() });
  }
  const mappings = ((config.block_device_mapping as Node | undefined)?.mapping ?? []) as Node[];
  const codes = ((config.product_codes as Node | undefined)?.product_code ?? []) as unknown[];
  const bundler = (m.bundler ?? {}) as Node;
  const kernelId = text(config.kernel_id);
  const ramdiskId = text(config.ramdisk_id);
  const architecture = text(config.architecture);
  const signatureText = text(m.signature);
  if (signatureText === undefined) return fail('signature', 'missing');
  const mcStart = xml.indexOf('<machine_configuration>');
  const mcEnd = xml.indexOf('</machine_configuration>');
  const imStart = xml.indexOf('<image>');
  const imEnd = xml.indexOf('</image>');
  const signedText =
    mcStart >= 0 && mcEnd > mcStart && imStart >= 0 && imEnd > imStart
      ? xml.slice(mcStart, mcEnd + '</machine_configuration>'.length) +
        xml.slice(imStart, imEnd + '</image>'.length)
      : undefined;
  return ok({
    version: text(m.version) ?? '',
    bundler: {
      name: text(bundler.name) ?? '',
      version: text(bundler.version) ?? '',
      release: text(bundler.release) ?? '',
    },
    machineConfiguration: {
      architecture: architecture ?? '',
      blockDeviceMapping: mappings.map((x) => ({
        virtual: text(x.virtual) ?? '',
        device: text(x.device) ?? '',
      })),
      productCodes: codes.map((c) => text(c) ?? ''),
      ...(kernelId !== undefined ? { kernelId } : {}),
      ...(ramdiskId !== undefined ? { ramdiskId } : {}),
    },
    image: {
      name: fields.name ?? '',
      user: fields.user ?? '',
      type: type as ImageType,
      digest: digest.toLowerCase(),
      size,
      bundledSize,
      ec2EncryptedKey: fields.ec2_encrypted_key ?? '',
      userEncryptedKey: fields.user_encrypted_key ?? '',
      ec2EncryptedIv: fields.ec2_encrypted_iv ?? '',
      userEncryptedIv: fields.user_encrypted_iv ?? '',
      parts,
    },
    signature: signatureText.trim(),
    ...(signedText !== undefined ? { signedText } : {}),
  });
}

/** True when the manifest's signature was made by the key of `certPem` over its raw signed slices. */
export function verifyManifestSignature(manifest: ParsedManifest, certPem: string): boolean {
  if (manifest.signedText === undefined || manifest.signature === 'UNSIGNED') return false;
  return verifySha1(Buffer.from(manifest.signedText, 'latin1'), manifest.signature, certPem);
}

/**
 * The image type as Eucalyptus decides it (spec §6.2): kernel if `<type>` says so, or
 * `kernel_id` is `true`/`yes`, or the manifest file name starts with `vmlinuz`; the
 * same for ramdisk with `initrd`; else machine.
 */
export function effectiveImageType(manifest: ManifestData, manifestFileName: string): ImageType {
  const base = manifestFileName.split('/').pop() ?? manifestFileName;
  const flag = (value: string | undefined): boolean => value === 'true' || value === 'yes';
  if (
    manifest.image.type === 'kernel' ||
    flag(manifest.machineConfiguration.kernelId) ||
    base.startsWith('vmlinuz')
  )
    return 'kernel';
  if (
    manifest.image.type === 'ramdisk' ||
    flag(manifest.machineConfiguration.ramdiskId) ||
    base.startsWith('initrd')
  )
    return 'ramdisk';
  return 'machine';
}
