// In-memory fakes of the cloud ports for unit tests (no sockets): an object store whose
// PUTs can be made to fail or corrupt, and an image registry whose states can be scripted.
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../../src/core/result.js';
import type { CloudFailure } from '../../src/cloud/aws-errors.js';
import type {
  DescribeImagesQuery,
  ImageInfo,
  ImageRegistryPort,
  RegisterImageRequest,
} from '../../src/cloud/image-registry.js';
import type {
  ObjectStorePort,
  PutObjectRequest,
  StoredObject,
} from '../../src/cloud/object-store.js';

export const ENDPOINT = 'http://fake.invalid:8773/services/objectstorage';
export const EC2_ENDPOINT = 'http://fake.invalid:8773/services/compute';

export function failure(
  reason: CloudFailure['reason'],
  extra: Partial<CloudFailure> = {},
): CloudFailure {
  return {
    reason,
    endpoint: ENDPOINT,
    service: 's3',
    operation: 'PutObject',
    ...(reason === 'throttled' || reason === 'server-error' ? { attempts: 1 } : {}),
    ...extra,
  } as CloudFailure;
}

export interface MemoryStore extends ObjectStorePort {
  readonly buckets: Map<string, Map<string, { body: Uint8Array; etag: string; acl: string }>>;
  /** Keys in the order their PUT completed. */
  readonly putLog: string[];
  /** Highest number of PUTs in flight at once. */
  readonly maxInFlight: () => number;
  /** Decides each PUT attempt: a failure to return, 'corrupt' to store wrong bytes, or undefined. */
  onPut: (key: string, attempt: number) => CloudFailure | 'corrupt' | undefined;
  bucketFailure?: CloudFailure;
}

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

export function memoryStore(): MemoryStore {
  const buckets = new Map<string, Map<string, { body: Uint8Array; etag: string; acl: string }>>();
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const store: MemoryStore = {
    endpoint: ENDPOINT,
    buckets,
    putLog: [],
    maxInFlight: () => maxInFlight,
    onPut: () => undefined,
    bucketExists(bucket) {
      if (store.bucketFailure) return Promise.resolve(err(store.bucketFailure));
      return Promise.resolve(ok(buckets.has(bucket)));
    },
    createBucket(bucket) {
      if (!buckets.has(bucket)) buckets.set(bucket, new Map());
      return Promise.resolve(ok(undefined));
    },
    listObjects(bucket, prefix) {
      const out = new Map<string, StoredObject>();
      for (const [key, object] of buckets.get(bucket) ??
        new Map<string, { body: Uint8Array; etag: string }>())
        if (key.startsWith(prefix))
          out.set(key, { etag: object.etag, size: object.body.byteLength });
      return Promise.resolve(ok(out));
    },
    async putObject(request: PutObjectRequest, signal) {
      const attempt = (attempts.get(request.key) ?? 0) + 1;
      attempts.set(request.key, attempt);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      if (signal.aborted) return err(failure('canceled'));
      const decision = store.onPut(request.key, attempt);
      if (decision !== undefined && decision !== 'corrupt') return err(decision);
      const body = decision === 'corrupt' ? new Uint8Array([1, 2, 3]) : request.body;
      const bucket = buckets.get(request.bucket);
      if (!bucket) return err(failure('not-found', { code: 'NoSuchBucket' }));
      bucket.set(request.key, { body, etag: md5(body), acl: request.acl });
      store.putLog.push(request.key);
      return ok({ etag: md5(body) });
    },
    getObject(bucket, key) {
      const object = buckets.get(bucket)?.get(key);
      return Promise.resolve(
        object ? ok(object.body) : err(failure('not-found', { code: 'NoSuchKey' })),
      );
    },
    deleteObject(bucket, key) {
      buckets.get(bucket)?.delete(key);
      return Promise.resolve(ok(undefined));
    },
  };
  return store;
}

export interface MemoryRegistry extends ImageRegistryPort {
  readonly images: ImageInfo[];
  readonly calls: string[];
  /** The states DescribeImages reports for a new image, one per poll (the last repeats). */
  states: string[];
  stateReason?: string;
  registerFailure?: (attempt: number) => CloudFailure | undefined;
  /** When true, RegisterImage stores the image but then reports `registerFailure`. */
  landThenFail?: boolean;
}

export function memoryRegistry(): MemoryRegistry {
  const polls = new Map<string, number>();
  let registerAttempts = 0;
  let counter = 0;
  const registry: MemoryRegistry = {
    endpoint: EC2_ENDPOINT,
    images: [],
    calls: [],
    states: ['available'],
    describeImages(query: DescribeImagesQuery) {
      registry.calls.push(`DescribeImages ${JSON.stringify(query)}`);
      let images = registry.images.map((image) => {
        const n = polls.get(image.imageId) ?? 0;
        polls.set(image.imageId, n + 1);
        const state = registry.states[Math.min(n, registry.states.length - 1)] ?? 'available';
        return {
          ...image,
          state,
          ...(state === 'failed' && registry.stateReason !== undefined
            ? { stateReason: registry.stateReason }
            : {}),
        };
      });
      if (query.imageIds) images = images.filter((i) => query.imageIds?.includes(i.imageId));
      const location = query.filters?.['manifest-location'];
      if (location) images = images.filter((i) => location.includes(i.imageLocation));
      return Promise.resolve(ok(images));
    },
    registerImage(request: RegisterImageRequest): Promise<Result<string, CloudFailure>> {
      registerAttempts += 1;
      registry.calls.push(`RegisterImage ${request.imageLocation}`);
      const failed = registry.registerFailure?.(registerAttempts);
      if (failed && !registry.landThenFail) return Promise.resolve(err(failed));
      counter += 1;
      const imageId = `emi-${String(counter).padStart(8, '0')}`;
      registry.images.push({
        imageId,
        imageLocation: request.imageLocation,
        ownerId: '123456789012',
        state: 'pending',
        isPublic: false,
        architecture: request.architecture ?? 'x86_64',
        imageType: 'machine',
        name: request.name,
      });
      return Promise.resolve(failed ? err(failed) : ok(imageId));
    },
    deregisterImage(imageId) {
      const index = registry.images.findIndex((i) => i.imageId === imageId);
      if (index < 0)
        return Promise.resolve(
          err({
            reason: 'not-found',
            endpoint: EC2_ENDPOINT,
            service: 'ec2',
            operation: 'DeregisterImage',
            code: 'InvalidAMIID.NotFound',
          }),
        );
      registry.images.splice(index, 1);
      return Promise.resolve(ok(undefined));
    },
    setPublic(imageId, isPublic) {
      registry.calls.push(`SetPublic ${imageId} ${String(isPublic)}`);
      return Promise.resolve(ok(undefined));
    },
  };
  return registry;
}
