// Does an S3 server honour conditional writes? A store that locks with `If-None-Match: *`
// (a create that must fail when the key exists) is only safe on a server that refuses the
// second create with 412; AWS S3 does since 2024, older Eucalyptus object storage and some
// gateways ignore the header and overwrite. The probe creates a fresh key twice and
// deletes it. Failures are values (CloudFailure); the verdict names the endpoint.
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { err, ok, type Result } from '../core/result.js';
import { errorFacts, toCloudFailure, type CloudFailure } from './aws-errors.js';

/** The part of an S3 client the probe uses (an S3Client, or a fake in tests). */
export interface ConditionalWriteClient {
  send(
    command: PutObjectCommand | DeleteObjectCommand,
    options?: { readonly abortSignal?: AbortSignal },
  ): Promise<unknown>;
}

/** What the second conditional create of one key got. */
export type SecondCreate =
  /** 412 PreconditionFailed (or 409 ConditionalRequestConflict): the condition was checked. */
  | { readonly kind: 'refused'; readonly httpStatus: number; readonly code: string }
  /** 2xx: the header was ignored and the object overwritten. */
  | { readonly kind: 'overwrote' }
  /** An error that says the server does not implement it (501 NotImplemented, 400…). */
  | { readonly kind: 'rejected-header'; readonly httpStatus?: number; readonly code?: string };

/** The probe's verdict on one server. */
export interface ConditionalWriteProbe {
  /** The S3 endpoint probed (what a refusal message names). */
  readonly endpoint: string;
  readonly bucket: string;
  /** The probe key (deleted afterwards unless `cleanup` says otherwise). */
  readonly key: string;
  /** True when a second `If-None-Match: *` create of the same key was refused. */
  readonly honoured: boolean;
  readonly secondCreate: SecondCreate;
  /** Why the probe key could not be deleted, when it could not. */
  readonly cleanupFailure?: CloudFailure;
}

export interface ProbeOptions {
  readonly bucket: string;
  /** Where the probe key goes (the store's prefix); a fresh random name is added. */
  readonly prefix: string;
  /** The endpoint the client talks to, for the verdict and failures. */
  readonly endpoint: string;
  readonly signal?: AbortSignal;
}

const REFUSED_STATUSES = new Set([409, 412]);

function classifySecondCreate(error: unknown): SecondCreate | undefined {
  const facts = errorFacts(error);
  if (facts.httpStatus === undefined) return undefined;
  if (REFUSED_STATUSES.has(facts.httpStatus))
    return { kind: 'refused', httpStatus: facts.httpStatus, code: facts.code ?? '' };
  if (facts.httpStatus === 501 || facts.httpStatus === 400)
    return {
      kind: 'rejected-header',
      httpStatus: facts.httpStatus,
      ...(facts.code !== undefined ? { code: facts.code } : {}),
    };
  return undefined;
}

/**
 * Creates `<prefix>.probe-conditional-write-<random>` with `If-None-Match: *` twice and
 * deletes it. ok(verdict) when the server answered both creates; err when the probe
 * could not be made (no bucket, no permission, unreachable, a 5xx on the second create).
 */
export async function probeConditionalWrites(
  client: ConditionalWriteClient,
  options: ProbeOptions,
): Promise<Result<ConditionalWriteProbe, CloudFailure>> {
  const { bucket, endpoint, signal } = options;
  const key = `${options.prefix}.probe-conditional-write-${randomBytes(8).toString('hex')}`;
  const context = {
    endpoint,
    service: 's3',
    operation: 'PutObject',
    subject: `${bucket}/${key}`,
  } as const;
  const create = (body: string): Promise<unknown> =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }));
  try {
    await create('first');
  } catch (error) {
    return err(toCloudFailure(error, { ...context, ...(signal ? { signal } : {}) }));
  }
  let secondCreate: SecondCreate;
  try {
    await create('second');
    secondCreate = { kind: 'overwrote' };
  } catch (error) {
    const classified = classifySecondCreate(error);
    if (classified === undefined) {
      await deleteQuietly(client, bucket, key);
      return err(toCloudFailure(error, { ...context, ...(signal ? { signal } : {}) }));
    }
    secondCreate = classified;
  }
  const cleanup = await deleteProbe(client, { ...options, key });
  return ok({
    endpoint,
    bucket,
    key,
    honoured: secondCreate.kind === 'refused',
    secondCreate,
    ...(cleanup.ok ? {} : { cleanupFailure: cleanup.error }),
  });
}

async function deleteProbe(
  client: ConditionalWriteClient,
  options: ProbeOptions & { readonly key: string },
): Promise<Result<void, CloudFailure>> {
  try {
    await client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: options.key }));
    return ok(undefined);
  } catch (error) {
    return err(
      toCloudFailure(error, {
        endpoint: options.endpoint,
        service: 's3',
        operation: 'DeleteObject',
        subject: `${options.bucket}/${options.key}`,
      }),
    );
  }
}

async function deleteQuietly(
  client: ConditionalWriteClient,
  bucket: string,
  key: string,
): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
}
