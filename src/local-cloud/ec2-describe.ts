// DescribeImages for the local cloud's EC2 API: ImageId.N, Owner.N, ExecutableBy.N and
// Filter.N (with * and ? wildcards) over the stored images, rendered as EC2's imagesSet.
import type { Ec2Error } from './bundle-checks.js';
import type { ImageRecord, ImageStore } from './image-store.js';
import type { XmlNode } from './xml.js';

/** `Prefix.N` values in N order (ImageId.1, ImageId.2…). */
export function listParam(params: Map<string, string>, prefix: string): string[] {
  const out: [number, string][] = [];
  for (const [name, value] of params) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(name);
    if (m) out.push([Number(m[1]), value]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** Filter.N.Name + Filter.N.Value.M. */
function filters(params: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of params) {
    const m = /^Filter\.(\d+)\.Name$/.exec(name);
    if (m)
      out.set(value, [...(out.get(value) ?? []), ...listParam(params, `Filter.${m[1]}.Value`)]);
  }
  return out;
}

function glob(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const FILTER_NAMES = new Set([
  'image-id',
  'name',
  'manifest-location',
  'image-type',
  'state',
  'architecture',
  'owner-id',
  'is-public',
  'kernel-id',
  'ramdisk-id',
  'description',
  'root-device-type',
  'virtualization-type',
]);

function filterValue(image: ImageRecord, name: string): string | undefined {
  switch (name) {
    case 'image-id':
      return image.imageId;
    case 'name':
      return image.name;
    case 'manifest-location':
      return image.imageLocation;
    case 'image-type':
      return image.imageType;
    case 'state':
      return image.state;
    case 'architecture':
      return image.architecture;
    case 'owner-id':
      return image.ownerId;
    case 'is-public':
      return String(image.isPublic);
    case 'kernel-id':
      return image.kernelId ?? '';
    case 'ramdisk-id':
      return image.ramdiskId ?? '';
    case 'description':
      return image.description ?? '';
    case 'root-device-type':
      return 'instance-store';
    case 'virtualization-type':
      return image.virtualizationType ?? 'paravirtual';
    default:
      return undefined;
  }
}

export function describe(
  params: Map<string, string>,
  images: Pick<ImageStore, 'list'>,
  account: string,
): XmlNode[] | Ec2Error {
  const ids = listParam(params, 'ImageId');
  const owners = listParam(params, 'Owner');
  const executableBy = listParam(params, 'ExecutableBy');
  const wanted = filters(params);
  for (const name of wanted.keys()) {
    if (!FILTER_NAMES.has(name) && !name.startsWith('tag'))
      return { code: 'InvalidParameterValue', message: `The filter '${name}' is invalid` };
  }
  const visible = images.list().filter((image) => image.ownerId === account || image.isPublic);
  const selected = visible.filter((image) => {
    if (ids.length > 0 && !ids.includes(image.imageId)) return false;
    if (
      owners.length > 0 &&
      !owners.some((o) => (o === 'self' ? image.ownerId === account : image.ownerId === o))
    )
      return false;
    if (
      executableBy.length > 0 &&
      !executableBy.some((e) =>
        e === 'all' ? image.isPublic : image.isPublic || image.ownerId === account,
      )
    )
      return false;
    for (const [name, values] of wanted) {
      const value = filterValue(image, name);
      if (value === undefined) return false;
      if (!values.some((v) => glob(v).test(value))) return false;
    }
    return true;
  });
  return selected.map((image): XmlNode => [
    'item',
    [
      ['imageId', image.imageId],
      ['imageLocation', image.imageLocation],
      ['imageState', image.state],
      ['imageOwnerId', image.ownerId],
      ['isPublic', image.isPublic],
      ['architecture', image.architecture],
      ['imageType', image.imageType],
      image.kernelId !== undefined ? ['kernelId', image.kernelId] : undefined,
      image.ramdiskId !== undefined ? ['ramdiskId', image.ramdiskId] : undefined,
      ['name', image.name],
      image.description !== undefined ? ['description', image.description] : undefined,
      ['rootDeviceType', 'instance-store'],
      image.rootDeviceName !== undefined ? ['rootDeviceName', image.rootDeviceName] : undefined,
      ['virtualizationType', image.virtualizationType ?? 'paravirtual'],
      ['hypervisor', 'xen'],
      ['creationDate', image.registeredAt],
      image.stateReason !== undefined
        ? [
            'stateReason',
            [
              ['code', 'Client.ImageFailed'],
              ['message', image.stateReason],
            ],
          ]
        : undefined,
    ],
  ]);
}

/** Serves one EC2 Query API request (POST form or GET query). Never throws. */
