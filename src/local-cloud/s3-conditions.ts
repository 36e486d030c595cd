// S3's conditional request headers, as pure decisions: If-None-Match / If-Match on writes
// (PutObject, CompleteMultipartUpload: 412 PreconditionFailed, 404 NoSuchKey for If-Match
// on a missing key) and If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since
// on reads (GetObject, HeadObject: 412 or 304), with S3's precedence rules. No I/O.
import { err, ok, type Result } from '../core/result.js';
import { unreachable } from '../core/unreachable.js';

/** What a write requires of the key's current object. */
export type WriteCondition =
  { readonly kind: 'absent' } | { readonly kind: 'etag'; readonly etags: readonly string[] };

/** A precondition that did not hold, named by its header as S3's error document does. */
export type ConditionError =
  | { readonly code: 'PreconditionFailed'; readonly condition: ConditionHeader }
  | { readonly code: 'NoSuchKey' };

export type ConditionHeader =
  'If-Match' | 'If-None-Match' | 'If-Modified-Since' | 'If-Unmodified-Since';

/** A conditional-write header this server does not implement (answered 501 like S3). */
export interface UnsupportedCondition {
  readonly header: ConditionHeader;
  readonly value: string;
}

/**
 * The entity tags of an If-Match / If-None-Match value, unquoted (`W/` dropped), or
 * ['*']. `"a", "b"` gives ['a', 'b']; a bare tag without quotes is accepted as S3 does.
 */
export function parseEtagList(value: string): readonly string[] {
  return value
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter((tag) => tag !== '')
    .map((tag) =>
      tag.length >= 2 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag,
    );
}

function etagMatches(etags: readonly string[], etag: string): boolean {
  return etags.some((tag) => tag === '*' || tag === etag);
}

/**
 * The condition a write's headers ask for: If-None-Match must be `*` (S3 implements
 * nothing else on writes), If-Match a list of ETags (or `*`). Both at once are refused
 * as S3 refuses them. Undefined when the write is unconditional.
 */
export function writeConditionFromHeaders(headers: {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
}): Result<WriteCondition | undefined, UnsupportedCondition> {
  const { ifMatch, ifNoneMatch } = headers;
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*' || ifMatch !== undefined)
      return err({ header: 'If-None-Match', value: ifNoneMatch });
    return ok({ kind: 'absent' });
  }
  if (ifMatch !== undefined) {
    const etags = parseEtagList(ifMatch);
    if (etags.length === 0) return err({ header: 'If-Match', value: ifMatch });
    return ok({ kind: 'etag', etags });
  }
  return ok(undefined);
}

/**
 * Whether a write with `condition` may replace `current` (the key's object, undefined
 * when there is none). If-Match on a missing key is NoSuchKey (404), as S3 answers it.
 */
export function checkWriteCondition(
  current: { readonly etag: string } | undefined,
  condition: WriteCondition | undefined,
): Result<void, ConditionError> {
  if (condition === undefined) return ok(undefined);
  switch (condition.kind) {
    case 'absent':
      return current === undefined
        ? ok(undefined)
        : err({ code: 'PreconditionFailed', condition: 'If-None-Match' });
    case 'etag':
      if (current === undefined) return err({ code: 'NoSuchKey' });
      return etagMatches(condition.etags, current.etag)
        ? ok(undefined)
        : err({ code: 'PreconditionFailed', condition: 'If-Match' });
    default:
      return unreachable(condition);
  }
}

/** The read-condition headers of a GET or HEAD (raw values). */
export interface ReadConditionHeaders {
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly ifModifiedSince?: string | undefined;
  readonly ifUnmodifiedSince?: string | undefined;
}

/** What a conditional read gets: the object, 304 Not Modified, or 412. */
export type ReadDecision =
  | { readonly kind: 'proceed' }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'precondition-failed'; readonly condition: ConditionHeader };

/** Seconds since the epoch of an HTTP date, or undefined when it does not parse (ignored). */
function httpSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * S3's rules for a read of an object with `etag` last modified at `lastModified` (ISO):
 * If-Match false → 412; else If-Unmodified-Since false → 412 unless If-Match was given
 * and held; If-None-Match matching → 304; else If-Modified-Since not after → 304 unless
 * If-None-Match was given (and did not match). Dates that do not parse are ignored.
 */
export function evaluateReadConditions(
  object: { readonly etag: string; readonly lastModified: string },
  headers: ReadConditionHeaders,
): ReadDecision {
  const modified = Math.floor(Date.parse(object.lastModified) / 1000);
  if (headers.ifMatch !== undefined && !etagMatches(parseEtagList(headers.ifMatch), object.etag))
    return { kind: 'precondition-failed', condition: 'If-Match' };
  const unmodifiedSince = httpSeconds(headers.ifUnmodifiedSince);
  if (headers.ifMatch === undefined && unmodifiedSince !== undefined && modified > unmodifiedSince)
    return { kind: 'precondition-failed', condition: 'If-Unmodified-Since' };
  if (headers.ifNoneMatch !== undefined)
    return etagMatches(parseEtagList(headers.ifNoneMatch), object.etag)
      ? { kind: 'not-modified' }
      : { kind: 'proceed' };
  const modifiedSince = httpSeconds(headers.ifModifiedSince);
  if (modifiedSince !== undefined && modified <= modifiedSince) return { kind: 'not-modified' };
  return { kind: 'proceed' };
}
