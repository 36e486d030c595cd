// Reading a bundle manifest back, strictly (manifest-xml.ts, manifest-shape.ts), with the
// signature checked over exactly the elements the values come from, and the image type as
// Eucalyptus decides it. Facts: spec/ec2-bundle-format.md §2.10, §6.1, §6.2.
import { err, ok, type Result } from '../core/result.js';
import {
  IMAGE_TYPES,
  type ImageType,
  type MachineConfiguration,
  type ManifestData,
  type ManifestImage,
  type ManifestPart,
} from './manifest.js';
import { checkManifestShape } from './manifest-shape.js';
import { parseStrictXml, type XmlElement } from './manifest-xml.js';
import { verifySha1 } from './rsa.js';

/** Eucalyptus reads at most 5 MiB of manifest (spec §6.1); so do we, on every side. */
export const MANIFEST_MAX_BYTES = 5 * 1024 * 1024;

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
  const tree = parseStrictXml(xml);
  if (!tree.ok) return invalid('(document)', `${tree.error.problem} (${tree.error.where})`);
  const m = tree.value;
  const shape = checkManifestShape(m);
  if (!shape.ok) return invalid(shape.error.field, shape.error.problem);
  const config = child(m, 'machine_configuration');
  const image = child(m, 'image');
  if (image === undefined) return invalid('image', 'missing');
  for (const signed of [config, image]) {
    if (signed === undefined) continue;
    const name = signed.name;
    if (
      xml.slice(signed.start, signed.startTagEnd) !== `<${name}>` ||
      xml.slice(signed.endTagStart, signed.end) !== `</${name}>`
    )
      return invalid(
        name,
        `a signed element must be written <${name}>…</${name}>, without attributes or spaces in its tags (spec §2.10)`,
      );
  }
  const fields = readImage(image);
  if (!fields.ok) return fields;
  const parts = readParts(child(image, 'parts'));
  if (!parts.ok) return parts;
  const signature = child(m, 'signature')?.text;
  if (signature === undefined) return invalid('signature', 'missing');
  const bundler = child(m, 'bundler');
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
    machineConfiguration: readMachineConfiguration(config),
    image: { ...fields.value, parts: parts.value },
    signature: signature.trim(),
    ...(signedText !== undefined ? { signedText } : {}),
  });
}

function invalid(field: string, problem: string): Result<never, ManifestInvalid> {
  return err({ reason: 'manifest-invalid', field: field.replace(/^manifest\//, ''), problem });
}

/** The `<image>` fields other than the parts, each checked. */
function readImage(image: XmlElement): Result<Omit<ManifestImage, 'parts'>, ManifestInvalid> {
  const fields: Record<string, string | undefined> = {};
  for (const name of IMAGE_FIELDS) {
    const value = child(image, name)?.text;
    if (value === undefined && !OPTIONAL_IMAGE_FIELDS.has(name))
      return invalid(`image/${name}`, 'missing');
    fields[name] = value;
  }
  const type = fields.type ?? '';
  if (!isImageType(type))
    return invalid('image/type', `expected machine, kernel or ramdisk, got '${type}'`);
  const digest = fields.digest ?? '';
  if (!/^[0-9a-f]{40}$/i.test(digest))
    return invalid('image/digest', `expected 40 hex digits (SHA-1), got '${digest}'`);
  const size = Number(fields.size);
  if (!/^\d+$/.test(fields.size ?? '') || !Number.isSafeInteger(size))
    return invalid('image/size', `expected a byte count, got '${fields.size ?? ''}'`);
  const bundledSize = Number(fields.bundled_size);
  if (!/^\d+$/.test(fields.bundled_size ?? '') || !Number.isSafeInteger(bundledSize))
    return invalid(
      'image/bundled_size',
      `expected a byte count, got '${fields.bundled_size ?? ''}'`,
    );
  return ok({
    name: fields.name ?? '',
    user: fields.user ?? '',
    type,
    digest: digest.toLowerCase(),
    size,
    bundledSize,
    ec2EncryptedKey: fields.ec2_encrypted_key ?? '',
    userEncryptedKey: fields.user_encrypted_key ?? '',
    ec2EncryptedIv: fields.ec2_encrypted_iv ?? '',
    userEncryptedIv: fields.user_encrypted_iv ?? '',
  });
}

const isImageType = (type: string): type is ImageType =>
  (IMAGE_TYPES as readonly string[]).includes(type);

/** `<parts count="N">` with `<part index="i">` in order, each a plain file name and a SHA-1. */
function readParts(partsNode: XmlElement | undefined): Result<ManifestPart[], ManifestInvalid> {
  if (partsNode === undefined) return invalid('image/parts', 'missing');
  const partList = children(partsNode, 'part');
  const countText = partsNode.attributes.get('count');
  if (countText !== undefined && countText !== String(partList.length))
    return invalid('image/parts', `count="${countText}" but ${partList.length} <part> elements`);
  const parts: ManifestPart[] = [];
  for (const [i, part] of partList.entries()) {
    const index = part.attributes.get('index');
    if (index !== String(i))
      return invalid(`image/parts/part[${i}]`, `index="${index ?? ''}", expected ${i}`);
    const filename = child(part, 'filename')?.text;
    const partDigest = child(part, 'digest')?.text;
    if (filename === undefined || !isPlainFileName(filename))
      return invalid(
        `image/parts/part[${i}]/filename`,
        `not a plain file name: '${filename ?? ''}' (a part is a file beside the manifest)`,
      );
    if (partDigest === undefined || !/^[0-9a-f]{40}$/i.test(partDigest))
      return invalid(
        `image/parts/part[${i}]/digest`,
        `expected 40 hex digits (SHA-1), got '${partDigest ?? ''}'`,
      );
    parts.push({ filename, digest: partDigest.toLowerCase() });
  }
  return ok(parts);
}

function readMachineConfiguration(config: XmlElement | undefined): MachineConfiguration {
  const kernelId = child(config, 'kernel_id')?.text;
  const ramdiskId = child(config, 'ramdisk_id')?.text;
  return {
    architecture: child(config, 'architecture')?.text ?? '',
    blockDeviceMapping: children(child(config, 'block_device_mapping'), 'mapping').map((x) => ({
      virtual: child(x, 'virtual')?.text ?? '',
      device: child(x, 'device')?.text ?? '',
    })),
    productCodes: children(child(config, 'product_codes'), 'product_code').map((c) => c.text),
    ...(kernelId !== undefined ? { kernelId } : {}),
    ...(ramdiskId !== undefined ? { ramdiskId } : {}),
  };
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
