// SigV2 verification against AWS's published examples (RESTAuthentication), every S3
// request euca2ools 3.4.1 signed in the recorded session, and the refusals.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  canonicalResource,
  parseHttpDate,
  signV2,
  stringToSignV2,
  verifySigV2,
  type SigV2Request,
} from '../../../src/local-cloud/sigv2.js';
import { repoPath } from '../../helpers/paths.js';

// AWS's example key pair from "Signing and Authenticating REST Requests".
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ID = 'AKIAIOSFODNN7EXAMPLE';
const secretFor = (id: string): string | undefined => (id === ID ? SECRET : undefined);

function request(
  method: string,
  path: string,
  query: string,
  headers: Record<string, string>,
): SigV2Request {
  return { method, resourcePath: path, rawQuery: query, headers };
}

const AWS_EXAMPLES: [string, SigV2Request, string][] = [
  [
    'Object GET',
    request('GET', '/johnsmith/photos/puppy.jpg', '', { date: 'Tue, 27 Mar 2007 19:36:42 +0000' }),
    'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
  ],
  [
    'Object PUT',
    request('PUT', '/johnsmith/photos/puppy.jpg', '', {
      date: 'Tue, 27 Mar 2007 21:15:45 +0000',
      'content-type': 'image/jpeg',
      'content-length': '94328',
    }),
    'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
  ],
  [
    'List (query parameters that are not sub-resources are not signed)',
    request('GET', '/johnsmith/', 'prefix=photos&max-keys=50&marker=puppy', {
      date: 'Tue, 27 Mar 2007 19:42:41 +0000',
      'user-agent': 'Mozilla/5.0',
    }),
    'htDYFYduRNen8P9ZfE/s9SuKy0U=',
  ],
  [
    'Fetch ?acl',
    request('GET', '/johnsmith/', 'acl', { date: 'Tue, 27 Mar 2007 19:44:46 +0000' }),
    'c2WLPFtWHVgbEmeEG93a4cG37dM=',
  ],
  [
    'Upload with x-amz-* headers and Content-MD5',
    request('PUT', '/static.johnsmith.net/db-backup.dat.gz', '', {
      date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
      'content-type': 'application/x-download',
      'x-amz-acl': 'public-read',
      'x-amz-meta-reviewedby': 'joe@johnsmith.net,jane@johnsmith.net',
      'x-amz-meta-filechecksum': '0x02661779',
      'x-amz-meta-checksumalgorithm': 'crc32',
    }),
    'ilyl83RwaSoYIEdixDQcA4OnAnc=',
  ],
];

describe('verifySigV2: AWS examples', () => {
  test.each(AWS_EXAMPLES)('%s', (_what, r, signature) => {
    const date = parseHttpDate(r.headers.date ?? '') ?? 0;
    const signed = { ...r, headers: { ...r.headers, authorization: `AWS ${ID}:${signature}` } };
    const verified = verifySigV2(signed, secretFor, date + 60_000);
    expect(verified.ok && verified.value.accessKeyId).toBe(ID);
    // One changed byte of the signature (a different character at each position) fails.
    const bad = `${signature.slice(0, 5)}${signature[5] === 'A' ? 'B' : 'A'}${signature.slice(6)}`;
    const refused = verifySigV2(
      { ...r, headers: { ...r.headers, authorization: `AWS ${ID}:${bad}` } },
      secretFor,
      date + 60_000,
    );
    expect(!refused.ok && refused.error.code).toBe('SignatureDoesNotMatch');
  });

  test('query string form: valid until Expires, then "Request has expired"', () => {
    const r = request(
      'GET',
      '/johnsmith/photos/puppy.jpg',
      `AWSAccessKeyId=${ID}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`,
      { host: 'johnsmith.s3.amazonaws.com' },
    );
    expect(verifySigV2(r, secretFor, 1175139620_000 - 1000).ok).toBe(true);
    const late = verifySigV2(r, secretFor, 1175139620_000 + 1000);
    expect(!late.ok && late.error).toEqual({
      code: 'AccessDenied',
      message: 'Request has expired',
    });
    const forged = verifySigV2(
      { ...r, rawQuery: r.rawQuery.replace('Expires=1175139620', 'Expires=1175139621') },
      secretFor,
      1175139620_000,
    );
    expect(!forged.ok && forged.error.code).toBe('SignatureDoesNotMatch');
  });
});

describe('canonical resource and string to sign', () => {
  test.each([
    ['uploads', '/b/k?uploads'],
    ['uploadId=x%2By&partNumber=2', '/b/k?partNumber=2&uploadId=x+y'],
    ['versioning', '/b/k?versioning'],
    ['location&max-keys=0', '/b/k?location'],
    ['delete=', '/b/k?delete='],
    ['response-content-type=text%2Fplain&foo=1&acl', '/b/k?acl&response-content-type=text/plain'],
    ['max-keys=0', '/b/k'],
  ])('?%s -> %s', (query, resource) => {
    expect(canonicalResource('/b/k', query)).toBe(resource);
  });

  test('x-amz-* headers: lower-cased, sorted, folded; x-amz-date empties the Date line', () => {
    const text = stringToSignV2(
      request('PUT', '/b/k', '', {
        'x-amz-meta-b': '  two\r\n   lines ',
        'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
        'x-amz-acl': 'private',
      }),
      '',
      '/b/k',
    );
    expect(text).toBe(
      'PUT\n\n\n\nx-amz-acl:private\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-b:two lines\n/b/k',
    );
  });

  test('x-amz-date is the request time when both it and Date are sent', () => {
    const when = Date.UTC(2007, 2, 27, 21, 20, 26);
    const headers = {
      date: 'Mon, 01 Jan 2001 00:00:00 GMT',
      'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000',
    };
    const r = request('DELETE', '/johnsmith/photos/puppy.jpg', '', headers);
    const signature = signV2(SECRET, stringToSignV2(r, '', r.resourcePath));
    const signed = { ...r, headers: { ...headers, authorization: `AWS ${ID}:${signature}` } };
    expect(verifySigV2(signed, secretFor, when).ok).toBe(true);
  });

  test.each([
    ['Tue, 24 Nov 2026 20:14:03 -0000', Date.UTC(2026, 10, 24, 20, 14, 3)],
    ['Tue, 24 Nov 2026 20:14:03 GMT', Date.UTC(2026, 10, 24, 20, 14, 3)],
    ['Tue, 24 Nov 2026 21:14:03 +0100', Date.UTC(2026, 10, 24, 20, 14, 3)],
    ['20261124T201403Z', Date.UTC(2026, 10, 24, 20, 14, 3)],
    ['yesterday', undefined],
  ])('parseHttpDate(%s)', (text, expected) => {
    expect(parseHttpDate(text)).toBe(expected);
  });
});

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly t: number;
}

const recorded = readFileSync(
  repoPath('test', 'fixtures', 'euca2ools-golden', 'traffic', 'euca2ools-session.jsonl'),
  'utf8',
)
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Recorded)
  .filter((r) => (r.headers.Authorization ?? '').startsWith('AWS '));

const S3_PREFIX = '/services/objectstorage';
function fromRecording(r: Recorded, authorization?: string): SigV2Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) headers[name.toLowerCase()] = value;
  if (authorization !== undefined) headers.authorization = authorization;
  return {
    method: r.method,
    resourcePath: r.path.slice(S3_PREFIX.length),
    alternativePaths: [r.path],
    rawQuery: r.query,
    headers,
  };
}
const euca = (id: string): string | undefined =>
  id === 'AKIDEXAMPLE123' ? 'secretEXAMPLEsecret' : undefined;

describe('verifySigV2: the recorded euca2ools 3.4.1 session', () => {
  test('the session has S3 requests signed with SigV2', () => {
    expect(recorded.length).toBeGreaterThan(20);
  });

  test.each(recorded.map((r, i) => [i, r.method, r.path, r] as const))(
    '#%i %s %s verifies at its time, and not with a changed byte',
    (_i, _m, _p, r) => {
      const now = r.t * 1000;
      expect(verifySigV2(fromRecording(r), euca, now).ok).toBe(true);
      const auth = r.headers.Authorization ?? '';
      const colon = auth.lastIndexOf(':');
      for (const at of [colon + 1, colon + 9, auth.length - 2]) {
        const changed = `${auth.slice(0, at)}${auth[at] === 'k' ? 'K' : 'k'}${auth.slice(at + 1)}`;
        const refused = verifySigV2(fromRecording(r, changed), euca, now);
        expect(!refused.ok && refused.error.code).toBe('SignatureDoesNotMatch');
      }
    },
  );

  const first = recorded[0]!;
  test.each([
    [
      'an unknown key id',
      first.headers.Authorization?.replace('AKIDEXAMPLE123', 'AKIDOTHER'),
      first.t * 1000,
      'InvalidAccessKeyId',
    ],
    ['a clock 16 minutes ahead', undefined, first.t * 1000 + 16 * 60_000, 'RequestTimeTooSkewed'],
    ['a clock 16 minutes behind', undefined, first.t * 1000 - 16 * 60_000, 'RequestTimeTooSkewed'],
  ])('refuses %s', (_what, authorization, now, code) => {
    const r = verifySigV2(fromRecording(first, authorization), euca, now);
    expect(!r.ok && r.error.code).toBe(code);
  });

  test('refuses a request without Date or x-amz-date', () => {
    const r = fromRecording(first);
    const { date: _date, ...headers } = r.headers;
    const refused = verifySigV2({ ...r, headers }, euca, first.t * 1000);
    expect(!refused.ok && refused.error.code).toBe('AccessDenied');
  });

  test('a wrong secret does not match', () => {
    const r = verifySigV2(fromRecording(first), () => 'not-the-secret', first.t * 1000);
    expect(!r.ok && r.error.code).toBe('SignatureDoesNotMatch');
  });
});
