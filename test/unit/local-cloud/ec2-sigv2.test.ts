// EC2 Query API Signature Version 2 against AWS's published example, and its refusals.
import { describe, expect, test } from '@jest/globals';
import {
  ec2StringToSign,
  isEc2SigV2,
  verifyEc2SigV2,
  type Ec2SigV2Request,
} from '../../../src/local-cloud/ec2-sigv2.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const secretFor = (id: string): string | undefined =>
  id === 'AKIAIOSFODNN7EXAMPLE' ? SECRET : undefined;
const AT = Date.UTC(2011, 9, 3, 15, 19, 30);

// "Signature Version 2 signing process" example (AWS General Reference).
const example: Ec2SigV2Request = {
  method: 'GET',
  host: 'elasticmapreduce.amazonaws.com',
  rawPath: '/',
  params: [
    ['Action', 'DescribeJobFlows'],
    ['Version', '2009-03-31'],
    ['AWSAccessKeyId', 'AKIAIOSFODNN7EXAMPLE'],
    ['SignatureVersion', '2'],
    ['SignatureMethod', 'HmacSHA256'],
    ['Timestamp', '2011-10-03T15:19:30'],
    ['Signature', 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIs='],
  ],
};
const withParam = (name: string, value: string): Ec2SigV2Request => ({
  ...example,
  params: [...example.params.filter(([k]) => k !== name), [name, value]],
});

describe('verifyEc2SigV2', () => {
  test("AWS's example: string to sign and signature", () => {
    expect(isEc2SigV2(example.params)).toBe(true);
    expect(ec2StringToSign(example)).toBe(
      'GET\nelasticmapreduce.amazonaws.com\n/\nAWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Action=DescribeJobFlows&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2011-10-03T15%3A19%3A30&Version=2009-03-31',
    );
    const r = verifyEc2SigV2(example, secretFor, AT + 60_000);
    expect(r.ok && r.value.accessKeyId).toBe('AKIAIOSFODNN7EXAMPLE');
  });

  test.each([
    [
      'a changed signature byte',
      withParam('Signature', 'i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf/Mj6vPxyYIt='),
      AT,
      'SignatureDoesNotMatch',
    ],
    ['a changed parameter', withParam('Version', '2009-04-01'), AT, 'SignatureDoesNotMatch'],
    ['another host', { ...example, host: 'evil.example' }, AT, 'SignatureDoesNotMatch'],
    ['an unknown key id', withParam('AWSAccessKeyId', 'AKIDOTHER'), AT, 'InvalidAccessKeyId'],
    ['a clock 16 minutes off', example, AT + 16 * 60_000, 'RequestTimeTooSkewed'],
    [
      'another SignatureMethod',
      withParam('SignatureMethod', 'HmacMD5'),
      AT,
      'InvalidParameterValue',
    ],
    [
      'no Timestamp or Expires',
      { ...example, params: example.params.filter(([k]) => k !== 'Timestamp') },
      AT,
      'MissingParameter',
    ],
  ])('refuses %s', (_what, request, now, code) => {
    const r = verifyEc2SigV2(request, secretFor, now);
    expect(!r.ok && r.error.code).toBe(code);
  });

  test('SigV4 requests are not taken for SigV2', () => {
    expect(
      isEc2SigV2([
        ['Action', 'DescribeImages'],
        ['Version', '2015-10-01'],
      ]),
    ).toBe(false);
  });
});
