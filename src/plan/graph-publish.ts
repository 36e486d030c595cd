// The params and input files of the publishing steps (bundle, manifest, upload, register),
// from the recipe's `bundle` and `publish`. Pure; default-graph.ts wires them into steps.
// No secret enters params: the private key is a secret input, credentials only by key id.
import { unreachable } from '../core/unreachable.js';
import type { Recipe } from '../recipe/model.js';
import type { StepInput } from './step.js';
import type {
  BundleManifestParams,
  BundleParams,
  PublishTargetParams,
  RegisterParams,
  UploadParams,
} from './step-params.js';

/** The three images a recipe publishes. */
export type ImageType = BundleParams['imageType'];

/** What every publishing step of a recipe shares. */
export interface Publishing {
  readonly target: PublishTargetParams;
  /** The bundle inputs of a real cloud: `cert`, `private-key` (secret), `cloud-cert`. */
  readonly bundleInputs: readonly StepInput[];
  /** Every upload-bundle step has these params. */
  readonly upload: UploadParams;
}

/** The target, bundle inputs and upload params of a recipe. */
export function publishingOf(recipe: Recipe): Publishing {
  const target = publishTarget(recipe.publish);
  const { bucket, prefix, acl } = recipe.publish;
  return {
    target,
    bundleInputs: bundleInputs(recipe.bundle),
    upload: { bucket, prefix, acl, target },
  };
}

/** Where bundles go: the endpoints for display and the access key id, never the secret. */
export function publishTarget(publish: Recipe['publish']): PublishTargetParams {
  return {
    cloud: publish.cloud,
    ec2Endpoint: publish.endpoints.ec2 ?? null,
    s3Endpoint: publish.endpoints.s3 ?? null,
    region: publish.region,
    accessKeyId: publish.credentials?.accessKey ?? null,
  };
}

/** The key files that bundling reads (none for the local cloud, which issues its own). */
export function bundleInputs(bundle: Recipe['bundle']): StepInput[] {
  const inputs: StepInput[] = [];
  if (bundle.cert) inputs.push({ name: 'cert', path: bundle.cert.path });
  if (bundle.privateKey)
    inputs.push({ name: 'private-key', path: bundle.privateKey.path, secret: true });
  if (bundle.cloudCert) inputs.push({ name: 'cloud-cert', path: bundle.cloudCert.path });
  return inputs;
}

/**
 * The bundle prefix of an image: file names and the image name in the manifest. Eucalyptus
 * also decides the image type from the manifest name (vmlinuz*, initrd*): keep them telling.
 */
export function bundlePrefix(recipe: Recipe, imageType: ImageType): string {
  switch (imageType) {
    case 'kernel':
      return `vmlinuz-${recipe.name}`;
    case 'ramdisk':
      return `initrd-${recipe.name}`;
    case 'machine':
      return `${recipe.name}.img`;
    default:
      return unreachable(imageType);
  }
}

/** bundle-image (kernel, ramdisk) and bundle-parts (machine). */
export function bundleParams(
  recipe: Recipe,
  imageType: ImageType,
  target: PublishTargetParams,
): BundleParams {
  return {
    imageType,
    arch: recipe.arch,
    prefix: bundlePrefix(recipe, imageType),
    partSizeBytes: recipe.bundle.partSizeBytes,
    account: recipe.bundle.account ?? null,
    target,
  };
}

/** bundle-manifest: the machine manifest, with the recipe's block device mapping. */
export function manifestParams(recipe: Recipe, target: PublishTargetParams): BundleManifestParams {
  const blockDeviceMapping = Object.entries(recipe.bundle.blockDeviceMapping).map(
    ([virtual, device]) => ({ virtual, device }),
  );
  return { arch: recipe.arch, blockDeviceMapping, target };
}

/** register-image: the image's name from `publish.names`. */
export function registerParams(
  recipe: Recipe,
  imageType: ImageType,
  target: PublishTargetParams,
): RegisterParams {
  const { publish } = recipe;
  return {
    imageType,
    name: publish.names[imageType],
    description: publish.description ?? null,
    arch: recipe.arch,
    public: publish.public,
    target,
  };
}
