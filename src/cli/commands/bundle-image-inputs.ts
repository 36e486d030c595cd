// The inputs of `emi-recipe bundle-image` (bundle-image.ts): the host architecture, -B
// mappings, the certificates and key from flags or eucarc, the numeric settings. Each
// check returns a usage message naming the flag, or the value.
import type { BlockDeviceMapping } from '../../bundle/manifest.js';
import type { CliDeps } from '../deps.js';
import { codeText, readPem, type PemFile } from './pem-files.js';

/** The flags of `emi-recipe bundle-image`, as commander parsed them. */
export interface BundleImageCliOptions {
  readonly image: string;
  readonly prefix?: string;
  readonly destination?: string;
  readonly arch?: string;
  readonly imageType?: string;
  readonly kernel?: string;
  readonly ramdisk?: string;
  readonly cert?: string;
  readonly privatekey?: string;
  readonly ec2cert?: string;
  readonly user?: string;
  readonly blockDeviceMapping?: string;
  readonly productcodes?: string;
  readonly partSize?: string;
  readonly encKey?: string;
  readonly encIv?: string;
  readonly alwaysDeflate?: boolean;
  readonly progress: boolean;
}

/** The architecture euca-bundle-image assumes without -r: this machine's. */
export function hostArch(): string | undefined {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'ia32':
      return 'i386';
    case 'arm':
      return 'armhf';
    default:
      return undefined;
  }
}

/** `ami=sda1,root=/dev/sda1` → mappings; undefined when malformed. */
export function parseBlockDeviceMapping(text: string): BlockDeviceMapping[] | undefined {
  const out: BlockDeviceMapping[] = [];
  for (const item of text.split(',')) {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(item.trim());
    if (match === null) return undefined;
    out.push({ virtual: match[1] ?? '', device: match[2] ?? '' });
  }
  return out;
}

/** The cloud certificate (required), the user's certificate and key, from flags or eucarc; a usage message when one is missing or unreadable. */
export async function readBundlePems(
  options: BundleImageCliOptions,
  env: CliDeps['env'],
): Promise<
  string | { cloudCert: PemFile; userCert: PemFile | undefined; userKey: PemFile | undefined }
> {
  const read = async (
    name: string,
    path: string | undefined,
  ): Promise<PemFile | string | undefined> => {
    if (path === undefined || path === '') return undefined;
    const pem = await readPem(path);
    return pem.ok ? pem.value : `cannot read the ${name} ${path} (${codeText(pem.error)})`;
  };
  const cloudPath = options.ec2cert ?? env.EUCALYPTUS_CERT;
  const cloudCert = await read('cloud certificate', cloudPath);
  if (cloudCert === undefined)
    return 'no cloud certificate: give --ec2cert FILE or set EUCALYPTUS_CERT (source your eucarc)';
  if (typeof cloudCert === 'string') return cloudCert;
  const userCert = await read('user certificate', options.cert ?? env.EC2_CERT ?? env.EUCA_CERT);
  if (typeof userCert === 'string') return userCert;
  const userKey = await read(
    'private key',
    options.privatekey ?? env.EC2_PRIVATE_KEY ?? env.EUCA_PRIVATE_KEY,
  );
  if (typeof userKey === 'string') return userKey;
  return { cloudCert, userCert, userKey };
}

/** -B and --part-size parsed, and --enc-key with --enc-iv; a usage message when one is wrong. */
export function checkBundleSettings(
  options: BundleImageCliOptions,
): string | { blockDeviceMapping?: BlockDeviceMapping[]; partSize?: number } {
  const out: { blockDeviceMapping?: BlockDeviceMapping[]; partSize?: number } = {};
  if (options.blockDeviceMapping !== undefined) {
    const mapping = parseBlockDeviceMapping(options.blockDeviceMapping);
    if (mapping === undefined)
      return `-B: expected VIRTUAL=DEVICE pairs such as ami=sda1,root=/dev/sda1, got '${options.blockDeviceMapping}'`;
    out.blockDeviceMapping = mapping;
  }
  if (options.partSize !== undefined) {
    const partSize = /^\d+$/.test(options.partSize) ? Number(options.partSize) : NaN;
    if (!Number.isSafeInteger(partSize) || partSize <= 0)
      return `--part-size: expected a number of bytes, got '${options.partSize}'`;
    out.partSize = partSize;
  }
  if ((options.encKey === undefined) !== (options.encIv === undefined))
    return '--enc-key and --enc-iv go together';
  return out;
}
