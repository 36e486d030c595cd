// The few object operations a remote store needs, with S3's conditional writes: get with
// its ETag, put only if absent (If-None-Match: *) or only over an ETag (If-Match), delete.
// A port: the SDK adapter is sdk-cas-objects.ts; unit tests use an in-memory fake.
import type { Result } from '../core/result.js';

/** The condition of a put: create only, replace only this version, or unconditional. */
export type PutCondition =
  { readonly ifNoneMatch: '*' } | { readonly ifMatch: string } | { readonly always: true };

/** The server answered with an error or not at all (facts for the message). */
export interface ObjectIoFailure {
  readonly reason: 'io';
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** The server's error code or the client's (ECONNREFUSED, TimeoutError…), and its message. */
  readonly detail: string;
}

/** A put whose condition did not hold (412 Precondition Failed, or 409 ConditionalRequestConflict). */
export interface PreconditionFailed {
  readonly reason: 'precondition-failed';
}

export interface StoredObject {
  readonly body: string;
  readonly etag: string;
}

export interface CasObjects {
  /** The server, for messages: its endpoint URL (never credentials). */
  readonly server: string;
  /** The object, or undefined when there is none. */
  get(key: string, signal: AbortSignal): Promise<Result<StoredObject | undefined, ObjectIoFailure>>;
  /** Writes `body` if `condition` holds; returns the new ETag. */
  put(
    key: string,
    body: string,
    condition: PutCondition,
    signal: AbortSignal,
  ): Promise<Result<{ readonly etag: string }, ObjectIoFailure | PreconditionFailed>>;
  /** Deletes the object (no error when it is already gone). */
  remove(key: string, signal: AbortSignal): Promise<Result<void, ObjectIoFailure>>;
}
