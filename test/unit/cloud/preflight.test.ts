// preflight against in-memory fakes: credentials, bucket, certificates, warnings.
import { describe, expect, test } from '@jest/globals';
import { preflight, type PreflightOptions } from '../../../src/cloud/preflight.js';
import type { CloudTarget } from '../../../src/cloud/target.js';
import { failure, memoryRegistry, memoryStore } from '../../helpers/fake-cloud.js';
import { GOLDEN_DIR } from '../../helpers/golden.js';

const signal = new AbortController().signal;
const target: CloudTarget = {
  cloud: 'eucalyptus',
  endpoints: {
    ec2: 'http://fake.invalid:8773/services/compute',
    s3: 'http://fake.invalid:8773/services/objectstorage',
  },
  region: 'eucalyptus',
  isAws: false,
  sources: { ec2: 'eucarc', s3: 'eucarc', credentials: 'eucarc' },
};
const keys = `${GOLDEN_DIR}/keys`;
const identity = {
  account: '123456789012',
  certPath: `${keys}/user-cert.pem`,
  privateKeyPath: `${keys}/user-key.pem`,
  cloudCertPath: `${keys}/cloud-cert.pem`,
};

function options(extra: Partial<PreflightOptions> = {}): PreflightOptions {
  return {
    target,
    store: memoryStore(),
    registry: memoryRegistry(),
    bucket: 'images',
    prefix: 'debian',
    mayWrite: true,
    needsAdmin: false,
    identity,
    signal,
    now: new Date('2026-01-01T00:00:00Z'),
    ...extra,
  };
}

describe('preflight', () => {
  test('all good: no findings; the bucket was created and the probe object removed', async () => {
    const store = memoryStore();
    const findings = await preflight(options({ store }));
    expect(findings).toEqual([]);
    expect(store.putLog).toEqual(['debian/.emi-recipe-preflight']);
    expect([...(store.buckets.get('images')?.keys() ?? [])]).toEqual([]);
  });

  test('plan --refresh (mayWrite false) only reads: a missing bucket is an info', async () => {
    const store = memoryStore();
    const findings = await preflight(options({ store, mayWrite: false }));
    expect(findings.map((f) => [f.severity, f.check])).toEqual([['info', 'bucket']]);
    expect(store.buckets.size).toBe(0);
  });

  test('rejected credentials are an error naming the endpoint', async () => {
    const store = memoryStore();
    store.bucketFailure = failure('auth-failure', {
      code: 'InvalidAccessKeyId',
      operation: 'ListObjectsV2',
    });
    const findings = await preflight(options({ store }));
    expect(findings[0]).toMatchObject({ severity: 'error', check: 's3-access' });
    expect(findings[0]?.message).toContain('http://fake.invalid:8773/services/objectstorage');
  });

  test('an unwritable bucket is an error', async () => {
    const store = memoryStore();
    store.onPut = () => failure('access-denied', { code: 'AccessDenied', httpStatus: 403 });
    const findings = await preflight(options({ store }));
    expect(findings.map((f) => f.check)).toEqual(['bucket']);
    expect(findings[0]?.message).toMatch(/not writable/);
  });

  test('a private key of another certificate, a missing cloud cert and a bad account', async () => {
    const findings = await preflight(
      options({
        identity: {
          account: '1234',
          certPath: `${keys}/user-cert.pem`,
          privateKeyPath: `${keys}/cloud-key.pem`,
          cloudCertPath: `${keys}/nope.pem`,
        },
      }),
    );
    expect(findings.map((f) => f.check).sort()).toEqual([
      'account',
      'cloud-certificate',
      'private-key',
    ]);
    expect(findings.every((f) => f.severity === 'error')).toBe(true);
    expect(findings.find((f) => f.check === 'cloud-certificate')?.message).toContain('nope.pem');
  });

  test('warns about admin rights for kernels on Eucalyptus and about images over 10 GiB', async () => {
    const findings = await preflight(options({ needsAdmin: true, imageSizeBytes: 31 * 1024 ** 3 }));
    expect(findings.map((f) => [f.severity, f.check])).toEqual([
      ['warning', 'admin-rights'],
      ['warning', 'image-size'],
    ]);
    expect(findings[1]?.message).toMatch(/30 GiB/);
  });
});
