// The two XML request bodies the embedded S3 reads (CompleteMultipartUpload, DeleteObjects):
// what the SDKs send parses, entities decode, anything else is MalformedXML with a reason;
// and DeleteObjects' integrity headers (Content-MD5 or x-amz-checksum-*, checked).
import { describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  decodeXmlText,
  parseCompleteMultipartUpload,
  parseDeleteObjects,
} from '../../../src/local-cloud/s3-xml-bodies.js';
import { integrityProblem } from '../../../src/local-cloud/s3-delete-objects.js';

describe('decodeXmlText', () => {
  test.each<[string, string | undefined]>([
    ['plain', 'plain'],
    ['a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;', `a & b <c> "d" 'e'`],
    ['line&#10;feed &#x41;', 'line\nfeed A'],
    ['&nbsp;', undefined],
    ['a & b', undefined],
    ['&#x110000;', undefined],
  ])('%s', (text, expected) => {
    expect(decodeXmlText(text)).toBe(expected);
  });
});

describe('parseCompleteMultipartUpload', () => {
  test("the SDK's body (namespace, checksums, quoted ETags)", () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Part><ChecksumCRC32>AAAA</ChecksumCRC32><ETag>&quot;aa&quot;</ETag><PartNumber>1</PartNumber></Part>' +
      '<Part><ETag>"bb"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>';
    expect(parseCompleteMultipartUpload(xml)).toEqual({
      ok: true,
      value: [
        { partNumber: 1, etag: 'aa' },
        { partNumber: 2, etag: 'bb' },
      ],
    });
  });
  test.each([
    ['<Delete></Delete>', 'the root element is not CompleteMultipartUpload'],
    ['<CompleteMultipartUpload></CompleteMultipartUpload>', 'the part list is empty'],
    [
      '<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>',
      'a Part lacks a PartNumber or an ETag',
    ],
    [
      '<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
      'a Part lacks a PartNumber or an ETag',
    ],
    ['not xml', 'the root element is not CompleteMultipartUpload'],
  ])('%s → MalformedXML (%s)', (xml, problem) => {
    expect(parseCompleteMultipartUpload(xml)).toEqual({
      ok: false,
      error: { code: 'MalformedXML', problem },
    });
  });
});

describe('parseDeleteObjects', () => {
  test('keys with entities and version ids; Quiet', () => {
    const xml =
      '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b/&lt;c&gt;</Key></Object>' +
      '<Object><Key>k</Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>';
    expect(parseDeleteObjects(xml)).toEqual({
      ok: true,
      value: { quiet: true, objects: [{ key: 'a&b/<c>' }, { key: 'k', versionId: 'v1' }] },
    });
    expect(parseDeleteObjects('<Delete><Object><Key>k</Key></Object></Delete>')).toEqual({
      ok: true,
      value: { quiet: false, objects: [{ key: 'k' }] },
    });
  });
  test('no key, no object, more than 1000 objects → MalformedXML', () => {
    expect(parseDeleteObjects('<Delete><Object><Key></Key></Object></Delete>').ok).toBe(false);
    expect(parseDeleteObjects('<Delete><Quiet>true</Quiet></Delete>').ok).toBe(false);
    const many = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`;
    expect(parseDeleteObjects(many)).toEqual({
      ok: false,
      error: { code: 'MalformedXML', problem: '1001 keys; one request deletes at most 1000' },
    });
  });
});

describe('integrityProblem', () => {
  const body = Buffer.from('<Delete/>');
  const headers =
    (h: Record<string, string>) =>
    (name: string): string | undefined =>
      h[name];
  test('a matching Content-MD5 or SHA-256 passes; a wrong one is named; none is missing', () => {
    const md5 = createHash('md5').update(body).digest('base64');
    const sha256 = createHash('sha256').update(body).digest('base64');
    expect(integrityProblem(headers({ 'content-md5': md5 }), body)).toBeUndefined();
    expect(integrityProblem(headers({ 'x-amz-checksum-sha256': sha256 }), body)).toBeUndefined();
    expect(integrityProblem(headers({ 'content-md5': sha256 }), body)).toEqual([
      'content-md5',
      sha256,
    ]);
    expect(integrityProblem(headers({}), body)).toBe('missing');
  });
  test('CRC32 is checked', () => {
    // CRC-32 of "123456789" is 0xCBF43926.
    const data = Buffer.from('123456789');
    const good = Buffer.from([0xcb, 0xf4, 0x39, 0x26]).toString('base64');
    expect(integrityProblem(headers({ 'x-amz-checksum-crc32': good }), data)).toBeUndefined();
    expect(integrityProblem(headers({ 'x-amz-checksum-crc32': 'AAAAAA==' }), data)).toEqual([
      'x-amz-checksum-crc32',
      'AAAAAA==',
    ]);
  });
});
