// S3's bucket naming rules as the local cloud applies them.
import { describe, expect, test } from '@jest/globals';
import { bucketNameProblem } from '../../../src/local-cloud/bucket-name.js';

describe('bucketNameProblem', () => {
  test.each(['goldenbucket', 'abc', 'a.b-c', 'my-bucket.2026', 'a'.repeat(63), '1.2.3.x'])(
    'accepts %s',
    (name) => {
      expect(bucketNameProblem(name)).toBeUndefined();
    },
  );

  test.each([
    ['a..b', /adjacent periods/],
    ['ab', /2 characters; a bucket name has 3 to 63/],
    ['a'.repeat(64), /64 characters/],
    ['Golden', /'G' is not allowed/],
    ['under_score', /'_' is not allowed/],
    ['-abc', /begin and end/],
    ['abc.', /begin and end/],
    ['192.168.5.4', /IP address/],
    ['xn--abc', /reserved/],
    ['sthree-abc', /reserved/],
    ['abc-s3alias', /reserved/],
    ['abc--ol-s3', /reserved/],
    ['services', /service paths/],
  ])('refuses %s', (name, why) => {
    expect(bucketNameProblem(name)).toMatch(why);
  });
});
