// CloudTarget resolution (recipe, eucarc, AWS chain; secrets hidden) and the mapping of
// SDK errors to CloudFailure with messages that name the endpoint.
import { describe, expect, test } from '@jest/globals';
import { inspect } from 'node:util';
import {
  describeCloudFailure,
  isRetryable,
  toCloudFailure,
} from '../../../src/cloud/aws-errors.js';
import { isAwsEndpoint, resolveCloudTarget } from '../../../src/cloud/target.js';

const EUCARC = {
  EC2_URL: 'http://euca:8773/services/compute',
  S3_URL: 'http://euca:8773/services/objectstorage',
  EC2_ACCESS_KEY: 'AKIEUCARC',
  EC2_SECRET_KEY: 'eucarc-secret-value',
};

describe('resolveCloudTarget', () => {
  test('eucarc variables fill what the recipe leaves out; the secret never shows', async () => {
    const r = resolveCloudTarget({ cloud: 'eucalyptus', env: EUCARC });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      endpoints: { ec2: EUCARC.EC2_URL, s3: EUCARC.S3_URL },
      region: 'eucalyptus',
      isAws: false,
      accessKeyId: 'AKIEUCARC',
      sources: { ec2: 'eucarc', s3: 'eucarc', credentials: 'eucarc' },
    });
    expect(JSON.stringify(r.value)).not.toContain('eucarc-secret-value');
    expect(inspect(r.value, { depth: 10 })).not.toContain('eucarc-secret-value');
    expect((await r.value.credentials?.())?.secretAccessKey).toBe('eucarc-secret-value');
  });

  test('recipe values win over eucarc', () => {
    const r = resolveCloudTarget({
      cloud: 'eucalyptus',
      endpoints: { ec2: 'https://cloud.example/services/compute' },
      credentials: { accessKey: 'AKIRECIPE', secretKey: 's' },
      env: EUCARC,
    });
    expect(r.ok && r.value.endpoints.ec2).toBe('https://cloud.example/services/compute');
    expect(r.ok && r.value.endpoints.s3).toBe(EUCARC.S3_URL);
    expect(r.ok && r.value.sources).toEqual({ ec2: 'recipe', s3: 'eucarc', credentials: 'recipe' });
  });

  test('aws without endpoints or keys: SDK defaults and the AWS chain', () => {
    const r = resolveCloudTarget({ cloud: 'aws', env: { AWS_REGION: 'eu-west-1' } });
    expect(r.ok && r.value).toMatchObject({
      isAws: true,
      region: 'eu-west-1',
      endpoints: {},
      sources: { credentials: 'aws-default' },
    });
    expect(r.ok && r.value.credentials).toBeUndefined();
  });

  test.each([
    [{ cloud: 'eucalyptus' as const, env: {} }, 'publish.endpoints.ec2'],
    [
      { cloud: 'eucalyptus' as const, env: { ...EUCARC, EC2_URL: 'euca:8773' } },
      'publish.endpoints.ec2',
    ],
    [{ cloud: 'eucalyptus' as const, env: { ...EUCARC, EC2_SECRET_KEY: '' } }, 'EC2_SECRET_KEY'],
    [{ cloud: 'local' as const, env: {} }, 'publish.cloud'],
  ])('refuses %j naming %s', (options, setting) => {
    const r = resolveCloudTarget(options);
    expect(!r.ok && r.error.setting).toBe(setting);
  });

  test('isAwsEndpoint', () => {
    expect(isAwsEndpoint('https://s3.eu-west-1.amazonaws.com')).toBe(true);
    expect(isAwsEndpoint('http://127.0.0.1:8773/services/objectstorage')).toBe(false);
    expect(isAwsEndpoint('http://notamazonaws.com.evil')).toBe(false);
  });
});

describe('toCloudFailure', () => {
  const ctx = {
    endpoint: 'http://euca:8773/services/compute',
    service: 'ec2' as const,
    operation: 'RegisterImage',
  };
  const sdkError = (name: string, status: number, message = 'm'): Error =>
    Object.assign(new Error(message), {
      name,
      $metadata: { httpStatusCode: status, requestId: 'r1' },
    });
  test.each([
    [sdkError('AuthFailure', 401), 'auth-failure'],
    [sdkError('SignatureDoesNotMatch', 403), 'auth-failure'],
    [sdkError('InvalidAccessKeyId', 403), 'auth-failure'],
    [sdkError('AuthFailure', 401, 'Manifest is not accessible'), 'refused'],
    [sdkError('AccessDenied', 403), 'access-denied'],
    [sdkError('UnauthorizedOperation', 403), 'access-denied'],
    [sdkError('NoSuchBucket', 404), 'not-found'],
    [sdkError('InvalidAMIID.NotFound', 400), 'not-found'],
    [sdkError('SlowDown', 503), 'throttled'],
    [sdkError('RequestLimitExceeded', 400), 'throttled'],
    [sdkError('InternalError', 500), 'server-error'],
    [sdkError('InvalidManifest', 400), 'refused'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'unreachable',
    ],
    [new Error('AWS SDK error wrapper for Error: getaddrinfo ENOTFOUND euca'), 'unreachable'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'server-error'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'timeout'],
    [Object.assign(new Error('aborted'), { name: 'AbortError' }), 'canceled'],
  ])('%s -> %s', (error, reason) => {
    expect(toCloudFailure(error, ctx).reason).toBe(reason);
  });

  test('facts are kept and the message names the endpoint and what to check', () => {
    const f = toCloudFailure(
      sdkError('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match.'),
      ctx,
    );
    expect(f).toMatchObject({ code: 'SignatureDoesNotMatch', httpStatus: 403, requestId: 'r1' });
    const text = describeCloudFailure(f);
    expect(text).toContain('http://euca:8773/services/compute');
    expect(text).toContain('EC2_ACCESS_KEY/EC2_SECRET_KEY');
    expect(text).not.toMatch(/\.\./);
  });

  test('isRetryable', () => {
    expect(isRetryable(sdkError('SlowDown', 503))).toBe(true);
    expect(isRetryable(sdkError('InternalError', 500))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(sdkError('InvalidManifest', 400))).toBe(false);
  });
});
