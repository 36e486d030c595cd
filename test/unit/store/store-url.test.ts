// Store addresses parse or say why not; a recipe's keys sit below the prefix.
import { describe, expect, test } from '@jest/globals';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { recipeKeys } from '../../../src/store/store-url.js';

describe('parseS3Url', () => {
  test.each([
    ['s3://bucket', { url: 's3://bucket', bucket: 'bucket', prefix: '' }],
    [
      's3://my-bucket/emi/state/',
      { url: 's3://my-bucket/emi/state', bucket: 'my-bucket', prefix: 'emi/state' },
    ],
  ])('%s', (text, expected) => {
    expect(parseS3Url(text)).toEqual({ ok: true, value: expected });
  });

  test.each([
    [
      'https://bucket/x',
      "expected an S3 address such as s3://my-bucket/emi-state, got 'https://bucket/x'",
    ],
    [
      's3://B/x',
      "'B' is not a valid S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-'), in 's3://B/x'",
    ],
    [
      's3://bucket/a//b',
      "the key prefix of 's3://bucket/a//b' has an empty segment ('//'); write it without",
    ],
    [
      's3://bucket/../b',
      "the key prefix of 's3://bucket/../b' has a '.' or '..' segment; write it without",
    ],
  ])('%s is refused', (text, message) => {
    expect(parseS3Url(text)).toEqual({ ok: false, error: message });
  });

  test('a recipe keeps its state and lock below the prefix, in a folder of its name', () => {
    const parsed = parseS3Url('s3://bucket/ci');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(recipeKeys(parsed.value, 'debian-minimal')).toEqual({
      state: 'ci/debian-minimal/state.json',
      lock: 'ci/debian-minimal/state.json.lock',
    });
  });
});
