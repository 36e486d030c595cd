// The conditional-write probe tells a server that honours If-None-Match/If-Match from one
// that ignores them, and leaves no object behind; store addresses parse or say why not.
import { describe, expect, test } from '@jest/globals';
import { probeConditionalWrites } from '../../../src/store/probe-conditional.js';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { recipeKeys } from '../../../src/store/store-url.js';
import { fakeCasObjects } from '../../helpers/fake-cas-objects.js';

describe('probeConditionalWrites', () => {
  const signal = new AbortController().signal;

  test('a server that honours conditional writes passes, and the probe object is removed', async () => {
    const objects = fakeCasObjects();
    expect(await probeConditionalWrites(objects, 'team', signal)).toEqual({
      ok: true,
      value: undefined,
    });
    expect(objects.objects.size).toBe(0);
    expect(objects.log.filter((l) => l.startsWith('put team/.emi-recipe-probe-'))).toHaveLength(3);
  });

  test('a server that ignores them is found out', async () => {
    const objects = fakeCasObjects({ ignoresConditions: true });
    expect(await probeConditionalWrites(objects, '', signal)).toEqual({
      ok: false,
      error: { reason: 'ignored', header: 'If-None-Match' },
    });
    expect(objects.objects.size).toBe(0);
  });

  test('an unreachable server is not mistaken for one that ignores them', async () => {
    const objects = fakeCasObjects();
    objects.failNext('put');
    const r = await probeConditionalWrites(objects, 'p', signal);
    expect(!r.ok && r.error.reason).toBe('io');
  });
});

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
