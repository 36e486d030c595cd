// Registering, waiting for and deregistering images like euca-register / euca-deregister
// (spec §4, §5), idempotently: an image already registered from the same manifest
// location is found and reused, so a crash between RegisterImage and the state write
// never makes a duplicate. Talks to EC2 only through ImageRegistryPort.
import { err, ok, type Result } from '../core/result.js';
import type { CloudFailure } from './aws-errors.js';
import type { ImageInfo, ImageRegistryPort } from './image-registry.js';
import { sleep } from '../core/sleep.js';
import { withRetries, type RetryPolicy } from './retry.js';

export interface RegisterImageOptions {
  readonly registry: ImageRegistryPort;
  /** `bucket/prefix/name.manifest.xml`: no scheme, no leading slash. */
  readonly imageLocation: string;
  readonly name: string;
  readonly description?: string;
  /** `i386` or `x86_64`; omitted: the cloud reads the manifest. */
  readonly architecture?: string;
  /** For machine images: the eki and eri ids. */
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  /**
   * `hvm` for a whole-disk image (euca-register --virtualization-type hvm): then no
   * kernel or ramdisk.
   */
  readonly virtualizationType?: 'hvm' | 'paravirtual';
  /**
   * RootDeviceName: for hvm, the root device the manifest implies (docs/publishing.md: the
   * issue asks for it; euca-register 3.4.1 sends none with a manifest, Eucalyptus derives
   * the same name from the manifest and ignores this one, AWS takes it as optional).
   */
  readonly rootDeviceName?: string;
  readonly signal: AbortSignal;
  /** Give everyone launch permission once available (recipe `publish.public`); default: leave as is. */
  readonly isPublic?: boolean;
  /** Give up waiting for `available` after this long; default 30 min. */
  readonly waitTimeoutMs?: number;
  /** First poll interval, growing to 15 s; default 1 s. */
  readonly pollIntervalMs?: number;
  readonly log?: (line: string) => void;
  readonly retry?: Partial<RetryPolicy>;
}

export interface RegisteredImage {
  readonly imageId: string;
  /** True when an image from the same location already existed and was reused. */
  readonly reused: boolean;
  readonly image: ImageInfo;
}

const REUSABLE_STATES = new Set(['available', 'pending']);

/** The image owned by the caller that was registered from `imageLocation`, if any. */
export async function findImageByLocation(
  registry: ImageRegistryPort,
  imageLocation: string,
  signal: AbortSignal,
): Promise<Result<ImageInfo | undefined, CloudFailure>> {
  const location = imageLocation.replace(/^\/+/, '');
  const found = await registry.describeImages(
    { owners: ['self'], filters: { 'manifest-location': [location] } },
    signal,
  );
  if (!found.ok) return found;
  // Compare here too: not every cloud honours the manifest-location filter.
  const matches = found.value.filter(
    (image) =>
      image.imageLocation.replace(/^\/+/, '') === location && REUSABLE_STATES.has(image.state),
  );
  matches.sort((a, b) =>
    a.state === b.state ? a.imageId.localeCompare(b.imageId) : a.state === 'available' ? -1 : 1,
  );
  return ok(matches[0]);
}

/**
 * Registers the bundle at `imageLocation` (or reuses the image already registered from
 * it) and waits until DescribeImages says `available`. Reuse is decided by location
 * alone (DescribeImages shows no manifest digest), so a bundle whose content changes must
 * get a new location: put its fingerprint in the prefix. Fails with the cloud's refusal
 * (bad manifest, unknown kernel, duplicate name…), `image-failed` with the cloud's
 * reason, or `wait-timeout`.
 */
export async function registerImage(
  options: RegisterImageOptions,
): Promise<Result<RegisteredImage, CloudFailure>> {
  const { registry, signal } = options;
  const log = options.log ?? ((): void => undefined);
  const retryOptions = {
    signal,
    ...(options.retry !== undefined ? { policy: options.retry } : {}),
  };
  const existing = await withRetries(
    () => findImageByLocation(registry, options.imageLocation, signal),
    retryOptions,
  );
  if (!existing.ok) return existing;
  let imageId: string;
  let reused = false;
  if (existing.value !== undefined) {
    imageId = existing.value.imageId;
    reused = true;
    log(
      `${options.imageLocation} is already registered as ${imageId} (${existing.value.state}); reusing it`,
    );
  } else {
    const registered = await withRetries(
      () =>
        registry.registerImage(
          {
            imageLocation: options.imageLocation,
            name: options.name,
            ...(options.description !== undefined ? { description: options.description } : {}),
            ...(options.architecture !== undefined ? { architecture: options.architecture } : {}),
            ...(options.kernelId !== undefined ? { kernelId: options.kernelId } : {}),
            ...(options.ramdiskId !== undefined ? { ramdiskId: options.ramdiskId } : {}),
            ...(options.virtualizationType !== undefined
              ? { virtualizationType: options.virtualizationType }
              : {}),
            ...(options.rootDeviceName !== undefined
              ? { rootDeviceName: options.rootDeviceName }
              : {}),
          },
          signal,
        ),
      retryOptions,
    );
    if (!registered.ok) {
      // A retried RegisterImage whose first attempt did land shows up as a duplicate name.
      if (registered.error.code === 'InvalidAMIName.Duplicate') {
        const again = await findImageByLocation(registry, options.imageLocation, signal);
        if (again.ok && again.value !== undefined) {
          return waitUntilAvailable({
            ...options,
            imageId: again.value.imageId,
            reused: true,
            log,
          });
        }
      }
      return registered;
    }
    imageId = registered.value;
    log(`registered ${options.imageLocation} as ${imageId}`);
  }
  return waitUntilAvailable({ ...options, imageId, reused, log });
}

async function waitUntilAvailable(
  options: RegisterImageOptions & { imageId: string; reused: boolean; log: (line: string) => void },
): Promise<Result<RegisteredImage, CloudFailure>> {
  const { registry, signal, imageId } = options;
  const timeout = options.waitTimeoutMs ?? 30 * 60_000;
  let interval = options.pollIntervalMs ?? 1000;
  const started = Date.now();
  let lastState = 'unknown';
  for (;;) {
    const described = await withRetries(
      () => registry.describeImages({ imageIds: [imageId] }, signal),
      {
        signal,
        ...(options.retry !== undefined ? { policy: options.retry } : {}),
      },
    );
    // Right after RegisterImage some clouds do not list the image yet (eventual consistency).
    if (!described.ok && described.error.code !== 'InvalidAMIID.NotFound') return described;
    const image = described.ok ? described.value.find((i) => i.imageId === imageId) : undefined;
    if (image !== undefined) {
      lastState = image.state;
      if (image.state === 'available') {
        if (options.isPublic !== undefined && options.isPublic !== image.isPublic) {
          const changed = await setImagePublic({
            registry,
            imageId,
            isPublic: options.isPublic,
            signal,
          });
          if (!changed.ok) return changed;
          return ok({
            imageId,
            reused: options.reused,
            image: { ...image, isPublic: options.isPublic },
          });
        }
        return ok({ imageId, reused: options.reused, image });
      }
      if (image.state === 'failed' || image.state === 'deregistered' || image.state === 'error') {
        return err({
          reason: 'image-failed',
          imageId,
          endpoint: registry.endpoint,
          service: 'ec2',
          operation: 'DescribeImages',
          subject: options.imageLocation,
          cloudMessage: image.stateReason ?? `state ${image.state}`,
        });
      }
    }
    const waited = Date.now() - started;
    if (waited >= timeout) {
      return err({
        reason: 'wait-timeout',
        imageId,
        lastState,
        waitedMs: waited,
        endpoint: registry.endpoint,
        service: 'ec2',
        operation: 'DescribeImages',
        subject: options.imageLocation,
      });
    }
    options.log(`${imageId} is ${lastState}; checking again in ${Math.round(interval / 1000)}s`);
    await sleep(Math.min(interval, timeout - waited), signal);
    if (signal.aborted) {
      return err({
        reason: 'canceled',
        endpoint: registry.endpoint,
        service: 'ec2',
        operation: 'DescribeImages',
        subject: imageId,
      });
    }
    interval = Math.min(15_000, Math.round(interval * 1.5));
  }
}

/** Deregisters `imageId`. An id that no longer exists is ok (cleanup can be repeated). */
export async function deregisterImage(options: {
  readonly registry: ImageRegistryPort;
  readonly imageId: string;
  readonly signal: AbortSignal;
}): Promise<Result<{ existed: boolean }, CloudFailure>> {
  const result = await options.registry.deregisterImage(options.imageId, options.signal);
  if (result.ok) return ok({ existed: true });
  if (result.error.reason === 'not-found') return ok({ existed: false });
  return result;
}

/**
 * The images `owners` own (default: the caller's), sorted by id as euca-describe-images
 * prints them. `owners: []` asks for every image the caller may see.
 */
export async function describeImages(options: {
  readonly registry: ImageRegistryPort;
  readonly owners?: readonly string[];
  readonly imageIds?: readonly string[];
  readonly filters?: Readonly<Record<string, readonly string[]>>;
  readonly signal: AbortSignal;
}): Promise<Result<readonly ImageInfo[], CloudFailure>> {
  const owners = options.owners ?? ['self'];
  const result = await options.registry.describeImages(
    {
      ...(owners.length > 0 ? { owners } : {}),
      ...(options.imageIds !== undefined ? { imageIds: options.imageIds } : {}),
      ...(options.filters !== undefined ? { filters: options.filters } : {}),
    },
    options.signal,
  );
  if (!result.ok) return result;
  return ok([...result.value].sort((a, b) => a.imageId.localeCompare(b.imageId)));
}

/** Adds (or removes) launch permission for everyone (`LaunchPermission` group `all`). */
export async function setImagePublic(options: {
  readonly registry: ImageRegistryPort;
  readonly imageId: string;
  readonly isPublic: boolean;
  readonly signal: AbortSignal;
}): Promise<Result<void, CloudFailure>> {
  return options.registry.setPublic(options.imageId, options.isPublic, options.signal);
}
