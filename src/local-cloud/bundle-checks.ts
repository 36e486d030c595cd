// What the local cloud checks before it accepts a bundle at RegisterImage: Eucalyptus
// 4.x's checks (spec §6.1, §6.2) plus the ones Eucalyptus only makes later, at launch
// (§6.3), so that a bundle it accepts would really boot: signature against the account's
// certificate, key and IV decryptable with the cloud key, every part present with its
// SHA-1. Pure: the objects and images are looked up through the functions given.
import { createHash } from 'node:crypto';
import { effectiveImageType, type ParsedManifest } from '../bundle/manifest-read.js';
import { ok, type Result } from '../core/result.js';
import type {
  AcceptedBundle,
  CheckContext,
  Ec2Error,
  RegisterRequest,
} from './bundle-check-types.js';
import {
  MANIFEST_CHECKS,
  readManifest,
  refuse,
  type LoadedManifest,
} from './bundle-manifest-checks.js';

export type {
  AcceptedBundle,
  CheckContext,
  Ec2Error,
  RegisterRequest,
} from './bundle-check-types.js';

const NAME_RULE = /^[A-Za-z0-9()./_-]{3,128}$/;
const ARCHITECTURES = new Set(['i386', 'x86_64']);

/** The request's own fields: name, virtualization type, and the location split in bucket/key. */
function checkRequest(
  request: RegisterRequest,
): Result<{ location: string; bucket: string; key: string }, Ec2Error> {
  if (!NAME_RULE.test(request.name))
    return refuse(
      'InvalidAMIName.Malformed',
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_': '${request.name}'`,
    );
  if (
    request.virtualizationType !== undefined &&
    !['paravirtual', 'hvm'].includes(request.virtualizationType.toLowerCase())
  )
    return refuse(
      'InvalidParameterValue',
      `Unknown virtualization-type: ${request.virtualizationType}`,
    );
  const location = request.imageLocation.replace(/^\/+/, '');
  const slash = location.indexOf('/');
  if (slash < 2 || slash === location.length - 1)
    return refuse('InvalidParameterValue', `Invalid image location: ${request.imageLocation}`);
  return ok({ location, bucket: location.slice(0, slash), key: location.slice(slash + 1) });
}

function chooseArchitecture(
  request: RegisterRequest,
  manifest: ParsedManifest,
): Result<string, Ec2Error> {
  const architecture =
    request.architecture ?? (manifest.machineConfiguration.architecture || 'i386');
  if (!ARCHITECTURES.has(architecture))
    return refuse(
      'InvalidParameterValue',
      `Unsupported architecture '${architecture}': expected i386 or x86_64`,
    );
  return ok(architecture);
}

/**
 * A machine image's kernel and ramdisk: from the request, else the manifest, else the
 * cloud's defaults; each an available image of its type. Other image types get none.
 */
function chooseKernelAndRamdisk(
  request: RegisterRequest,
  loaded: LoadedManifest,
  ctx: CheckContext,
): Result<{ kernelId?: string; ramdiskId?: string }, Ec2Error> {
  const { manifest } = loaded;
  if (effectiveImageType(manifest, loaded.key) !== 'machine') return ok({});
  const fromManifest = (value: string | undefined, prefix: string): string | undefined =>
    value?.startsWith(`${prefix}-`) === true ? value : undefined;
  const kernelId =
    request.kernelId ??
    fromManifest(manifest.machineConfiguration.kernelId, 'eki') ??
    ctx.defaultKernelId;
  const ramdiskId =
    request.ramdiskId ??
    fromManifest(manifest.machineConfiguration.ramdiskId, 'eri') ??
    ctx.defaultRamdiskId;
  if (kernelId === undefined) return refuse('MissingParameter', 'Kernel ID must be specified');
  if (ramdiskId === undefined) return refuse('MissingParameter', 'Ramdisk ID must be specified');
  for (const [id, wanted] of [
    [kernelId, 'kernel'],
    [ramdiskId, 'ramdisk'],
  ] as const) {
    const image = ctx.images.find((i) => i.imageId === id);
    if (image === undefined)
      return refuse('InvalidAMIID.NotFound', `The ${wanted} image ID '${id}' does not exist`);
    if (image.imageType !== wanted)
      return refuse(
        'InvalidParameterValue',
        `Image '${id}' is a ${image.imageType} image, not a ${wanted} image`,
      );
    if (image.state !== 'available')
      return refuse('InvalidAMIID.Unavailable', `The ${wanted} image '${id}' is ${image.state}`);
  }
  return ok({ kernelId, ramdiskId });
}

/** No other live (available or pending) image of the account has this name. */
function checkUniqueName(
  request: RegisterRequest,
  ctx: CheckContext,
): Result<never, Ec2Error> | undefined {
  const duplicate = ctx.images.find(
    (i) =>
      i.ownerId === ctx.accountId &&
      i.name === request.name &&
      (i.state === 'available' || i.state === 'pending'),
  );
  return duplicate !== undefined
    ? refuse(
        'InvalidAMIName.Duplicate',
        `AMI name ${request.name} is already in use by EMI ${duplicate.imageId}`,
      )
    : undefined;
}

/**
 * The root device name Eucalyptus gives an instance-store machine image
 * (MachineImageInfo.getRootDeviceName): the manifest's `ami` mapping, with `/dev/` added;
 * without one, `/dev/sda` for hvm (the whole disk) and `/dev/sda1` for paravirtual. A
 * RootDeviceName in the request plays no part: ImageManager.register uses it only for EBS
 * registrations. (Eucalyptus runs an instance-store image whose root device is a
 * partition, such as `ami: sda1`, with the partitioned layout: VmTypes.asVmTypeInfo.)
 */
export function instanceStoreRootDevice(
  manifest: ParsedManifest,
  virtualizationType: 'paravirtual' | 'hvm',
): string {
  const ami = manifest.machineConfiguration.blockDeviceMapping?.find((m) => m.virtual === 'ami');
  if (ami !== undefined && ami.device !== '')
    return ami.device.startsWith('/dev/') ? ami.device : `/dev/${ami.device}`;
  return virtualizationType === 'hvm' ? '/dev/sda' : '/dev/sda1';
}

/**
 * Runs every check in Eucalyptus' order and returns what to register, or the first
 * refusal with a Eucalyptus-like code and message.
 */
export async function checkRegistration(
  request: RegisterRequest,
  ctx: CheckContext,
): Promise<Result<AcceptedBundle, Ec2Error>> {
  const where = checkRequest(request);
  if (!where.ok) return where;
  const loaded = await readManifest(ctx, where.value.bucket, where.value.key);
  if (!loaded.ok) return loaded;
  for (const check of MANIFEST_CHECKS) {
    const refused = check(loaded.value, ctx);
    if (refused !== undefined) return refused;
  }
  const { manifest, bytes } = loaded.value;
  const architecture = chooseArchitecture(request, manifest);
  if (!architecture.ok) return architecture;
  const imageType = effectiveImageType(manifest, where.value.key);
  // An hvm machine image boots its own disk through the firmware: no kernel or ramdisk
  // is chosen (none from the request, the manifest or the cloud's defaults).
  const virtualizationType =
    imageType === 'machine' && request.virtualizationType?.toLowerCase() === 'hvm'
      ? 'hvm'
      : 'paravirtual';
  const boot =
    virtualizationType === 'hvm' ? ok({}) : chooseKernelAndRamdisk(request, loaded.value, ctx);
  if (!boot.ok) return boot;
  const duplicate = checkUniqueName(request, ctx);
  if (duplicate !== undefined) return duplicate;
  return ok({
    imageType,
    virtualizationType,
    imageLocation: where.value.location,
    name: request.name,
    ...(request.description !== undefined ? { description: request.description } : {}),
    architecture: architecture.value,
    ...boot.value,
    ...(imageType === 'machine'
      ? { rootDeviceName: instanceStoreRootDevice(manifest, virtualizationType) }
      : {}),
    size: manifest.image.size,
    bundledSize: manifest.image.bundledSize,
    digest: manifest.image.digest,
    manifestSha256: createHash('sha256').update(bytes).digest('hex'),
  });
}
