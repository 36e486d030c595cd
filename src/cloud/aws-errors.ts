// Cloud failures as data (STYLE.md §3): what the SDK threw, folded into one union tagged by
// `reason`, with the facts (endpoint, operation, code, HTTP status) and what to check next.
// Must not hold secrets: only the access key id may appear, never a secret key.

/** The service a request went to. */
export type CloudService = 's3' | 'ec2';

export interface CloudFailureBase {
  /** The endpoint URL the request went to (`(AWS default)` when the SDK chose it). */
  readonly endpoint: string;
  readonly service: CloudService;
  /** The API operation, e.g. `PutObject`, `RegisterImage`. */
  readonly operation: string;
  /** The cloud's error code (`InvalidManifest`, `SignatureDoesNotMatch`) or the socket error code. */
  readonly code?: string;
  readonly httpStatus?: number;
  readonly requestId?: string;
  /** The cloud's own message, verbatim (a fact, not our sentence). */
  readonly cloudMessage?: string;
  /** What the request was about: a bucket/key, an image id or location. */
  readonly subject?: string;
}

/** Why a cloud operation did not succeed. */
export type CloudFailure =
  /** The key pair was not accepted (unknown key id, bad signature, clock skew). */
  | (CloudFailureBase & { readonly reason: 'auth-failure' })
  /** The credentials are valid but lack a permission. */
  | (CloudFailureBase & { readonly reason: 'access-denied' })
  /** No connection could be made (refused, unknown host, no route). */
  | (CloudFailureBase & { readonly reason: 'unreachable' })
  /** The connection was made but no answer came in time, after retries. */
  | (CloudFailureBase & { readonly reason: 'timeout' })
  /** A bucket, object or image does not exist. */
  | (CloudFailureBase & { readonly reason: 'not-found' })
  /** The cloud refused the request and said why (bad manifest, duplicate name…). */
  | (CloudFailureBase & { readonly reason: 'refused' })
  /** Still throttled (503 SlowDown, RequestLimitExceeded) after every retry. */
  | (CloudFailureBase & { readonly reason: 'throttled'; readonly attempts: number })
  /** Still 5xx or dropped connections after every retry. */
  | (CloudFailureBase & { readonly reason: 'server-error'; readonly attempts: number })
  /** The object stored differs from the bytes sent (ETag is not their MD5), after retries. */
  | (CloudFailureBase & {
      readonly reason: 'integrity';
      readonly expectedMd5: string;
      readonly gotEtag: string;
    })
  /** The image reached state `failed`; `cloudMessage` holds the cloud's state reason. */
  | (CloudFailureBase & { readonly reason: 'image-failed'; readonly imageId: string })
  /** The image did not become `available` within `waitedMs`. */
  | (CloudFailureBase & {
      readonly reason: 'wait-timeout';
      readonly imageId: string;
      readonly lastState: string;
      readonly waitedMs: number;
    })
  /** Aborted by the caller's signal. */
  | (CloudFailureBase & { readonly reason: 'canceled' })
  /** A local file (part, manifest, certificate) could not be read. */
  | (CloudFailureBase & { readonly reason: 'local-file'; readonly path: string })
  /** Anything else the SDK reported (a malformed response, an unexpected error). */
  | (CloudFailureBase & { readonly reason: 'unexpected' });

export type CloudFailureReason = CloudFailure['reason'];

const AUTH_CODES = new Set([
  'AuthFailure',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'RequestTimeTooSkewed',
  'RequestExpired',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
]);
const DENIED_CODES = new Set([
  'AccessDenied',
  'UnauthorizedOperation',
  'Forbidden',
  'AllAccessDisabled',
]);
const NOT_FOUND_CODES = new Set([
  'NoSuchBucket',
  'NoSuchKey',
  'NotFound',
  'InvalidAMIID.NotFound',
  'InvalidAMIID.Unavailable',
]);
const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_INVALID_URL',
]);
const DROPPED_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly Code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
  readonly $response?: { readonly statusCode?: unknown };
  readonly cause?: unknown;
}

/** The facts an SDK error (or a socket error) carries, whatever its shape. */
export function errorFacts(error: unknown): {
  code?: string;
  httpStatus?: number;
  requestId?: string;
  message?: string;
} {
  if (error === null || typeof error !== 'object') return { message: String(error) };
  const e = error as SdkErrorLike;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const rawCode =
    typeof e.code === 'string' ? e.code : typeof e.Code === 'string' ? e.Code : undefined;
  const name = typeof e.name === 'string' ? e.name : undefined;
  // Socket errors have a `code`; service errors a `name` that is the error code.
  let code =
    rawCode ?? (name !== undefined && name !== 'Error' && name !== 'Unknown' ? name : undefined);
  if (code === undefined && e.cause !== undefined && e.cause !== error)
    code = errorFacts(e.cause).code;
  // The SDK's retry middleware wraps errors that fail its `instanceof Error` test (errors
  // from another realm, e.g. under jest's VM modules) into "AWS SDK error wrapper for
  // Error: connect ECONNREFUSED …" (@smithy/core middleware-retry asSdkError): keep the code.
  if (code === undefined && typeof e.message === 'string') {
    const socketCode = /\b(E[A-Z]{3,}|ERR_[A-Z_]+)\b/.exec(e.message)?.[1];
    if (socketCode !== undefined) code = socketCode;
  }
  const message =
    typeof e.message === 'string' && e.message !== '' && e.message !== 'UnknownError'
      ? e.message
      : undefined;
  return {
    ...(code !== undefined ? { code } : {}),
    ...(typeof status === 'number' ? { httpStatus: status } : {}),
    ...(typeof e.$metadata?.requestId === 'string' ? { requestId: e.$metadata.requestId } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

/** Whether a failure is worth another attempt (throttling, 5xx, dropped or stalled connections). */
export function isRetryable(error: unknown): boolean {
  const { code, httpStatus } = errorFacts(error);
  if (code !== undefined && (THROTTLE_CODES.has(code) || DROPPED_CODES.has(code))) return true;
  if (code === 'TimeoutError' || code === 'RequestTimeout' || code === 'ETIMEDOUT') return true;
  if (httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429)) return true;
  return false;
}

/**
 * Folds whatever an SDK call threw into a CloudFailure. `attempts` is how many times the
 * request was tried (for the throttled/server-error variants).
 */
export function toCloudFailure(
  error: unknown,
  context: {
    readonly endpoint: string;
    readonly service: CloudService;
    readonly operation: string;
    readonly subject?: string;
    readonly attempts?: number;
    readonly signal?: AbortSignal;
  },
): CloudFailure {
  const facts = errorFacts(error);
  const base: CloudFailureBase = {
    endpoint: context.endpoint,
    service: context.service,
    operation: context.operation,
    ...(context.subject !== undefined ? { subject: context.subject } : {}),
    ...(facts.code !== undefined ? { code: facts.code } : {}),
    ...(facts.httpStatus !== undefined ? { httpStatus: facts.httpStatus } : {}),
    ...(facts.requestId !== undefined ? { requestId: facts.requestId } : {}),
    ...(facts.message !== undefined ? { cloudMessage: facts.message } : {}),
  };
  const attempts = context.attempts ?? 1;
  const code = facts.code ?? '';
  if (context.signal?.aborted === true || code === 'AbortError')
    return { ...base, reason: 'canceled' };
  // Eucalyptus answers AuthFailure "Manifest is not accessible" for a manifest of another
  // account (spec §6.1): the key pair was fine, the bundle was not.
  if (code === 'AuthFailure' && /manifest/i.test(facts.message ?? ''))
    return { ...base, reason: 'refused' };
  if (AUTH_CODES.has(code)) return { ...base, reason: 'auth-failure' };
  if (DENIED_CODES.has(code)) return { ...base, reason: 'access-denied' };
  if (NOT_FOUND_CODES.has(code)) return { ...base, reason: 'not-found' };
  if (THROTTLE_CODES.has(code) || facts.httpStatus === 429)
    return { ...base, reason: 'throttled', attempts };
  if (UNREACHABLE_CODES.has(code)) return { ...base, reason: 'unreachable' };
  if (code === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'RequestTimeout')
    return { ...base, reason: 'timeout' };
  if (DROPPED_CODES.has(code) || (facts.httpStatus !== undefined && facts.httpStatus >= 500))
    return { ...base, reason: 'server-error', attempts };
  if (facts.httpStatus === 401) return { ...base, reason: 'auth-failure' };
  if (facts.httpStatus === 403) return { ...base, reason: 'access-denied' };
  if (facts.httpStatus === 404) return { ...base, reason: 'not-found' };
  if (facts.httpStatus !== undefined && facts.httpStatus >= 400)
    return { ...base, reason: 'refused' };
  return { ...base, reason: 'unexpected' };
}

function where(f: CloudFailure): string {
  const subject = f.subject !== undefined ? ` (${f.subject})` : '';
  return `${f.operation}${subject} at ${f.endpoint}`;
}

function said(f: CloudFailure): string {
  const message = f.cloudMessage?.replace(/\.+$/, '');
  const code = f.code !== undefined && message?.includes(f.code) !== true ? f.code : undefined;
  const parts = [code, message].filter((x): x is string => x !== undefined && x !== '');
  const status = f.httpStatus !== undefined ? `HTTP ${f.httpStatus}` : undefined;
  const all = [...(status !== undefined ? [status] : []), ...parts];
  return all.length > 0 ? `: ${all.join(' ')}` : '';
}

/**
 * One or two sentences for people: what failed, where, what the cloud said, and what to
 * check next. Names the endpoint; never contains a secret.
 */
export function describeCloudFailure(f: CloudFailure): string {
  switch (f.reason) {
    case 'auth-failure':
      return `${where(f)} was refused: the credentials were not accepted${said(f)}. Check the access key id and secret key (publish.credentials, or EC2_ACCESS_KEY/EC2_SECRET_KEY from your eucarc, or the AWS credential chain), that they belong to this cloud, and that this machine's clock is right.`;
    case 'access-denied':
      return `${where(f)} was denied${said(f)}. The credentials are valid but lack a permission: check that the account may ${f.service === 's3' ? 'create and write this bucket (or pick another publish.bucket)' : 'call this operation (registering kernels and ramdisks needs cloud-admin rights on Eucalyptus)'}.`;
    case 'unreachable':
      return `${where(f)} failed: cannot connect to ${f.endpoint}${said(f)}. Check the URL (publish.endpoints or ${f.service === 's3' ? 'S3_URL' : 'EC2_URL'}), that the service is running, and the network between here and there.`;
    case 'timeout':
      return `${where(f)} got no answer in time${said(f)}. Check that ${f.endpoint} is up and not overloaded, then run the command again: finished work is kept.`;
    case 'not-found':
      return `${where(f)}: not found${said(f)}.`;
    case 'refused':
      return `${where(f)} was refused by the cloud${said(f)}.`;
    case 'throttled':
      return `${where(f)} was still throttled after ${f.attempts} attempts${said(f)}. Lower the upload concurrency or try again later; finished parts are not sent again.`;
    case 'server-error':
      return `${where(f)} failed after ${f.attempts} attempts${said(f)}: the server kept failing or dropping the connection. Run the command again: finished parts are not sent again.`;
    case 'integrity':
      return `${where(f)}: the stored object's ETag ${f.gotEtag} is not the MD5 ${f.expectedMd5} of the bytes sent, even after retries; something between here and ${f.endpoint} corrupts uploads.`;
    case 'image-failed':
      return `Image ${f.imageId} reached state 'failed' at ${f.endpoint}${f.cloudMessage !== undefined ? `: ${f.cloudMessage}` : ''}.`;
    case 'wait-timeout':
      return `Image ${f.imageId} at ${f.endpoint} was still '${f.lastState}' after ${Math.round(f.waitedMs / 1000)}s; check it with 'emi-recipe images' and run again to keep waiting.`;
    case 'canceled':
      return `${where(f)} was interrupted.`;
    case 'local-file':
      return `Cannot read ${f.path}${said(f)} (needed for ${f.operation}).`;
    case 'unexpected':
      return `${where(f)} failed${said(f)}.`;
  }
}
