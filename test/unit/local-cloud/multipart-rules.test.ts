// S3's multipart completion rules as pure functions: part-number bounds, the order, part
// and size checks (in S3's order of precedence) and the multipart ETag.
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  MIN_PART_SIZE,
  multipartEtag,
  parsePartNumber,
  validateCompletion,
  type StoredPart,
} from '../../../src/local-cloud/multipart-rules.js';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const stored = (...parts: [number, string, number][]): Map<number, StoredPart> =>
  new Map(parts.map(([partNumber, etag, size]) => [partNumber, { partNumber, etag, size }]));

describe('parsePartNumber', () => {
  test.each<[string | undefined, number | undefined]>([
    ['1', 1],
    ['10000', 10_000],
    ['0', undefined],
    ['10001', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['', undefined],
    [undefined, undefined],
    ['0x10', undefined],
  ])('%s → %s', (text, expected) => {
    expect(parsePartNumber(text)).toBe(expected);
  });
});

describe('validateCompletion', () => {
  const big = MIN_PART_SIZE;
  const parts = stored([1, 'aa', big], [2, 'bb', big], [3, 'cc', 10], [5, 'ee', 1]);

  test('the named parts in order; the last may be small; parts may be skipped', () => {
    const ok = validateCompletion(
      [
        { partNumber: 1, etag: 'aa' },
        { partNumber: 3, etag: 'CC' },
      ],
      parts,
    );
    expect(ok.ok && ok.value.map((p) => p.partNumber)).toEqual([1, 3]);
  });

  test('out of order or repeated → InvalidPartOrder (before any other check)', () => {
    expect(
      validateCompletion(
        [
          { partNumber: 2, etag: 'x' },
          { partNumber: 1, etag: 'x' },
        ],
        parts,
      ),
    ).toEqual({ ok: false, error: { code: 'InvalidPartOrder' } });
    expect(
      validateCompletion(
        [
          { partNumber: 1, etag: 'aa' },
          { partNumber: 1, etag: 'aa' },
        ],
        parts,
      ),
    ).toEqual({ ok: false, error: { code: 'InvalidPartOrder' } });
  });

  test('a part never uploaded or a wrong ETag → InvalidPart naming it', () => {
    expect(validateCompletion([{ partNumber: 4, etag: 'dd' }], parts)).toEqual({
      ok: false,
      error: { code: 'InvalidPart', partNumber: 4, etag: 'dd' },
    });
    expect(validateCompletion([{ partNumber: 1, etag: 'bb' }], parts)).toEqual({
      ok: false,
      error: { code: 'InvalidPart', partNumber: 1, etag: 'bb' },
    });
  });

  test('a part under 5 MiB before the last → EntityTooSmall with its size', () => {
    expect(
      validateCompletion(
        [
          { partNumber: 3, etag: 'cc' },
          { partNumber: 5, etag: 'ee' },
        ],
        parts,
      ),
    ).toEqual({
      ok: false,
      error: {
        code: 'EntityTooSmall',
        partNumber: 3,
        etag: 'cc',
        size: 10,
        minSize: MIN_PART_SIZE,
      },
    });
  });
});

describe('multipartEtag', () => {
  test('MD5 of the binary part MD5s, then -N (as S3 and awscli compute it)', () => {
    const a = md5('a');
    const b = md5('b');
    const expected = createHash('md5')
      .update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
      .digest('hex');
    expect(multipartEtag([a, b])).toBe(`${expected}-2`);
    expect(multipartEtag([a])).toBe(
      `${createHash('md5').update(Buffer.from(a, 'hex')).digest('hex')}-1`,
    );
  });
});
