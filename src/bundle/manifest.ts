// The bundle manifest (PREFIX.manifest.xml): written byte for byte as euca2ools 3.4.1
// writes it, signed, and read back strictly, with the signature checked over the exact
// elements the values come from. The one contract shared by the bundler, the unbundler
// and the cloud side. Facts: spec/ec2-bundle-format.md §2.9, §2.10, §6.2.
import { err, ok, type Result } from '../core/result.js';
import { checkManifestShape } from './manifest-shape.js';
import { parseStrictXml, type XmlElement } from './manifest-xml.js';
import { signSha1, verifySha1 } from './rsa.js';

/** Eucalyptus reads at most 5 MiB of manifest (spec §6.1); so do we, on every side. */
export const MANIFEST_MAX_BYTES = 5 * 1024 * 1024;

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
   * The source text of the `<machine_configuration>` element followed by that of the
   * `<image>` element — exactly the elements every value above was read from (spec
   * §2.10); undefined when either is missing. The parser refuses every document in which
   * another reader (Eucalyptus cuts the first literal tags out of the raw text) could
   * find other bytes: comments, CDATA, processing instructions, DOCTYPE, duplicates.
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

const IMAGE_FIELDS = [
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
] as const;
/** The user's copy of the key and IV may be absent (a bundle for the cloud only). */
const OPTIONAL_IMAGE_FIELDS = new Set<string>(['user_encrypted_key', 'user_encrypted_iv']);

const child = (parent: XmlElement | undefined, name: string): XmlElement | undefined =>
  parent?.children.find((c) => c.name === name);
const children = (parent: XmlElement | undefined, name: string): XmlElement[] =>
  parent?.children.filter((c) => c.name === name) ?? [];

/** A part file name must name a file in the parts directory, nothing else. */
function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/**
 * Parses manifest text (read as latin1, one character per byte); every missing, malformed
 * or ambiguous element is named in the failure. The text is parsed once, strictly (see
 * manifest-xml.ts, manifest-shape.ts), and the signed text is cut from the source spans
 * of the very elements the values come from.
 */
export function parseManifest(xml: string): Result<ParsedManifest, ManifestInvalid> {
  const fail = (field: string, problem: string): Result<ParsedManifest, ManifestInvalid> =>
    err({ reason: 'manifest-invalid', field: field.replace(/^manifest\//, ''), problem });
  const tree = parseStrictXml(xml);
  if (!tree.ok) return fail('(document)', `${tree.error.problem} (${tree.error.where})`);
  const m = tree.value;
  const shape = checkManifestShape(m);
  if (!shape.ok) return fail(shape.error.field, shape.error.problem);
  const config = child(m, 'machine_configuration');
  const image = child(m, 'image');
  if (image === undefined) return fail('image', 'missing');
  for (const signed of [config, image]) {
    if (signed === undefined) continue;
    const name = signed.name;
    if (
      xml.slice(signed.start, signed.startTagEnd) !== `<${name}>` ||
      xml.slice(signed.endTagStart, signed.end) !== `</${name}>`
    )
      return fail(
        name,
        `a signed element must be written <${name}>…</${name}>, without attributes or spaces in its tags (spec §2.10)`,
      );
  }
  const fields: Record<string, string | undefined> = {};
  for (const name of IMAGE_FIELDS) {
    const value = child(image, name)?.text;
    if (value === undefined && !OPTIONAL_IMAGE_FIELDS.has(name))
      return fail(`image/${name}`, 'missing');
    fields[name] = value;
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
  const partsNode = child(image, 'parts');
  if (partsNode === undefined) return fail('image/parts', 'missing');
  const partList = children(partsNode, 'part');
  const countText = partsNode.attributes.get('count');
  if (countText !== undefined && countText !== String(partList.length)) {
    return fail('image/parts', `count="${countText}" but ${partList.length} <part> elements`);
  }
  const parts: ManifestPart[] = [];
  for (const [i, part] of partList.entries()) {
    const index = part.attributes.get('index');
    if (index !== String(i))
      return fail(`image/parts/part[${i}]`, `index="${index ?? ''}", expected ${i}`);
    const filename = child(part, 'filename')?.text;
    const partDigest = child(part, 'digest')?.text;
    if (filename === undefined || !isPlainFileName(filename))
      return fail(
        `image/parts/part[${i}]/filename`,
        `not a plain file name: '${filename ?? ''}' (a part is a file beside the manifest)`,
      );
    if (partDigest === undefined || !/^[0-9a-f]{40}$/i.test(partDigest))
      return fail(
        `image/parts/part[${i}]/digest`,
        `expected 40 hex digits (SHA-1), got '${partDigest ?? ''}'`,
      );
    parts.push({ filename, digest: partDigest.toLowerCase() });
  }
  const signature = child(m, 'signature')?.text;
  if (signature === undefined) return fail('signature', 'missing');
  const bundler = child(m, 'bundler');
  const kernelId = child(config, 'kernel_id')?.text;
  const ramdiskId = child(config, 'ramdisk_id')?.text;
  const signedText =
    config === undefined
      ? undefined
      : xml.slice(config.start, config.end) + xml.slice(image.start, image.end);
  return ok({
    version: child(m, 'version')?.text ?? '',
    bundler: {
      name: child(bundler, 'name')?.text ?? '',
      version: child(bundler, 'version')?.text ?? '',
      release: child(bundler, 'release')?.text ?? '',
    },
    machineConfiguration: {
      architecture: child(config, 'architecture')?.text ?? '',
      blockDeviceMapping: children(child(config, 'block_device_mapping'), 'mapping').map((x) => ({
        virtual: child(x, 'virtual')?.text ?? '',
        device: child(x, 'device')?.text ?? '',
      })),
      productCodes: children(child(config, 'product_codes'), 'product_code').map((c) => c.text),
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
    signature: signature.trim(),
    ...(signedText !== undefined ? { signedText } : {}),
  });
}

/**
 * True when the manifest's signature was made by the key of `certPem` over its signed
 * text (see ParsedManifest.signedText). The one signature check of the project: unbundle
 * and the local cloud's RegisterImage both call it on a parseManifest() result.
 */
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
