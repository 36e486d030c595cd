// S3's conditional headers as pure decisions: ETag lists, the write conditions
// (If-None-Match: *, If-Match; 404 for If-Match on a missing key) and the read rules
// with S3's precedence (If-Match over If-Unmodified-Since, If-None-Match over
// If-Modified-Since).
import { describe, expect, test } from '@jest/globals';
import {
  checkWriteCondition,
  evaluateReadConditions,
  parseEtagList,
  writeConditionFromHeaders,
} from '../../../src/local-cloud/s3-conditions.js';

const object = { etag: 'abc', lastModified: '2026-01-02T03:04:05.678Z' };

describe('parseEtagList', () => {
  test.each<[string, string[]]>([
    ['"abc"', ['abc']],
    ['abc', ['abc']],
    ['"a", "b"', ['a', 'b']],
    ['W/"a"', ['a']],
    ['*', ['*']],
    ['"abc-3"', ['abc-3']],
    [' , ', []],
  ])('%s', (value, expected) => {
    expect(parseEtagList(value)).toEqual(expected);
  });
});

describe('writeConditionFromHeaders', () => {
  test('none, If-None-Match: *, If-Match', () => {
    expect(writeConditionFromHeaders({})).toEqual({ ok: true, value: undefined });
    expect(writeConditionFromHeaders({ ifNoneMatch: '*' })).toEqual({
      ok: true,
      value: { kind: 'absent' },
    });
    expect(writeConditionFromHeaders({ ifMatch: '"e1"' })).toEqual({
      ok: true,
      value: { kind: 'etag', etags: ['e1'] },
    });
  });
  test('If-None-Match with an ETag, or with If-Match, is not implemented (S3 refuses both)', () => {
    expect(writeConditionFromHeaders({ ifNoneMatch: '"e1"' })).toEqual({
      ok: false,
      error: { header: 'If-None-Match', value: '"e1"' },
    });
    expect(writeConditionFromHeaders({ ifNoneMatch: '*', ifMatch: '"e1"' }).ok).toBe(false);
    expect(writeConditionFromHeaders({ ifMatch: ' ' }).ok).toBe(false);
  });
});

describe('checkWriteCondition', () => {
  test('If-None-Match: * holds only when the key has no object', () => {
    expect(checkWriteCondition(undefined, { kind: 'absent' }).ok).toBe(true);
    expect(checkWriteCondition(object, { kind: 'absent' })).toEqual({
      ok: false,
      error: { code: 'PreconditionFailed', condition: 'If-None-Match' },
    });
  });
  test('If-Match holds on the current ETag; a stale one is 412, a missing key NoSuchKey', () => {
    expect(checkWriteCondition(object, { kind: 'etag', etags: ['abc'] }).ok).toBe(true);
    expect(checkWriteCondition(object, { kind: 'etag', etags: ['old', 'abc'] }).ok).toBe(true);
    expect(checkWriteCondition(object, { kind: 'etag', etags: ['*'] }).ok).toBe(true);
    expect(checkWriteCondition(object, { kind: 'etag', etags: ['old'] })).toEqual({
      ok: false,
      error: { code: 'PreconditionFailed', condition: 'If-Match' },
    });
    expect(checkWriteCondition(undefined, { kind: 'etag', etags: ['abc'] })).toEqual({
      ok: false,
      error: { code: 'NoSuchKey' },
    });
  });
  test('no condition always holds', () => {
    expect(checkWriteCondition(object, undefined).ok).toBe(true);
    expect(checkWriteCondition(undefined, undefined).ok).toBe(true);
  });
});

describe('evaluateReadConditions', () => {
  const before = 'Thu, 01 Jan 2026 00:00:00 GMT';
  const after = 'Sat, 03 Jan 2026 00:00:00 GMT';
  const same = 'Fri, 02 Jan 2026 03:04:05 GMT';
  test.each<[string, Record<string, string>, string]>([
    ['no headers', {}, 'proceed'],
    ['If-Match current', { ifMatch: '"abc"' }, 'proceed'],
    ['If-Match stale', { ifMatch: '"old"' }, 'precondition-failed If-Match'],
    ['If-None-Match current', { ifNoneMatch: '"abc"' }, 'not-modified'],
    ['If-None-Match *', { ifNoneMatch: '*' }, 'not-modified'],
    ['If-None-Match other', { ifNoneMatch: '"old"' }, 'proceed'],
    ['If-Modified-Since before', { ifModifiedSince: before }, 'proceed'],
    ['If-Modified-Since same second', { ifModifiedSince: same }, 'not-modified'],
    ['If-Modified-Since after', { ifModifiedSince: after }, 'not-modified'],
    ['If-Modified-Since unparsable', { ifModifiedSince: 'yesterday' }, 'proceed'],
    [
      'If-Unmodified-Since before',
      { ifUnmodifiedSince: before },
      'precondition-failed If-Unmodified-Since',
    ],
    ['If-Unmodified-Since after', { ifUnmodifiedSince: after }, 'proceed'],
    [
      'If-Match true wins over If-Unmodified-Since false',
      { ifMatch: '"abc"', ifUnmodifiedSince: before },
      'proceed',
    ],
    [
      'If-None-Match false wins over If-Modified-Since true',
      { ifNoneMatch: '"old"', ifModifiedSince: after },
      'proceed',
    ],
    [
      'If-None-Match true with If-Modified-Since false',
      { ifNoneMatch: '"abc"', ifModifiedSince: before },
      'not-modified',
    ],
  ])('%s', (_name, headers, expected) => {
    const decision = evaluateReadConditions(object, headers);
    const text =
      decision.kind === 'precondition-failed'
        ? `${decision.kind} ${decision.condition}`
        : decision.kind;
    expect(text).toBe(expected);
  });
});
