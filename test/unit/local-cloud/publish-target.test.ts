// The one target opener (local-cloud/publish-target.ts) for real clouds, without a
// request or a process: settings, eucarc fallbacks, where a setting came from, problems
// named by the setting the user wrote (recipe key or command-line flag). The local cloud
// it opens is exercised by the integration tests (publish-steps, cli-publish).
import { inspect } from 'node:util';
import { describe, expect, test } from '@jest/globals';
import {
  describeOpenTargetFailure,
  localCloudDataDir,
  openPublishTarget,
  type OpenTargetOptions,
  type TargetDescription,
} from '../../../src/local-cloud/publish-target.js';

const EUCARC = {
  EC2_URL: 'http://euca:8773/services/compute',
  S3_URL: 'http://euca:8773/services/objectstorage',
  EC2_ACCESS_KEY: 'AKIEUCARC',
  EC2_SECRET_KEY: 'eucarc-secret-value',
};

const none: TargetDescription = {
  cloud: 'eucalyptus',
  ec2Endpoint: null,
  s3Endpoint: null,
  region: null,
  accessKeyId: null,
};

function open(options: Partial<OpenTargetOptions> & { target: TargetDescription }) {
  return openPublishTarget({
    env: {},
    localDataDir: '/nonexistent/never-used',
    signal: new AbortController().signal,
    ...options,
  });
}

describe('localCloudDataDir', () => {
  test('below a recipe folder, and relative for the commands’ default', () => {
    expect(localCloudDataDir('/srv/recipes')).toBe('/srv/recipes/.emi-recipe/local-cloud');
    expect(localCloudDataDir('.')).toBe('.emi-recipe/local-cloud');
  });
});

describe('openPublishTarget (real clouds)', () => {
  test('eucarc fills what is not given; nothing is started and the secret never shows', async () => {
    const r = await open({ target: none, env: EUCARC });
    if (!r.ok) throw new Error(describeOpenTargetFailure(r.error));
    expect(r.value.local).toBeUndefined();
    expect(r.value.target).toMatchObject({
      cloud: 'eucalyptus',
      endpoints: { ec2: EUCARC.EC2_URL, s3: EUCARC.S3_URL },
      region: 'eucalyptus',
      accessKeyId: 'AKIEUCARC',
      sources: { ec2: 'eucarc', s3: 'eucarc', credentials: 'eucarc' },
    });
    expect(inspect(r.value, { depth: 10 })).not.toContain('eucarc-secret-value');
    await r.value.close();
  });

  test('the recipe’s key pair and endpoint win over eucarc', async () => {
    const r = await open({
      target: { ...none, ec2Endpoint: 'https://cloud.example/compute', accessKeyId: 'AKIRECIPE' },
      secretKey: 'recipe-secret',
      env: EUCARC,
    });
    if (!r.ok) throw new Error(describeOpenTargetFailure(r.error));
    expect(r.value.target.sources).toEqual({ ec2: 'recipe', s3: 'eucarc', credentials: 'recipe' });
    expect(r.value.target.endpoints.ec2).toBe('https://cloud.example/compute');
    expect((await r.value.target.credentials?.())?.secretAccessKey).toBe('recipe-secret');
  });

  test('command-line values are labelled as such; aws takes its region', async () => {
    const r = await open({
      target: { ...none, cloud: 'aws', region: 'eu-west-1', s3Endpoint: 'http://minio:9000' },
      origin: 'command-line',
    });
    if (!r.ok) throw new Error(describeOpenTargetFailure(r.error));
    expect(r.value.target).toMatchObject({
      cloud: 'aws',
      region: 'eu-west-1',
      isAws: false,
      endpoints: { s3: 'http://minio:9000' },
      sources: { ec2: 'aws-default', s3: 'command-line', credentials: 'aws-default' },
    });
  });

  test.each([
    [
      'recipe' as const,
      'publish.endpoints.ec2: not set: give publish.endpoints.ec2 or export EC2_URL (source your eucarc)',
    ],
    [
      'command-line' as const,
      '--ec2-url: not set: give --ec2-url or export EC2_URL (source your eucarc)',
    ],
  ])('a missing endpoint is named as the %s spells it', async (origin, message) => {
    const r = await open({ target: none, origin });
    expect(!r.ok && describeOpenTargetFailure(r.error)).toBe(message);
  });

  test('a malformed flag is named by the flag', async () => {
    const r = await open({
      target: { ...none, s3Endpoint: 'euca:8773' },
      env: EUCARC,
      origin: 'command-line',
    });
    expect(!r.ok && r.error.reason === 'target-invalid' && r.error.setting).toBe('--s3-url');
  });

  test('an access key id without its secret is refused before any request', async () => {
    const r = await open({ target: { ...none, accessKeyId: 'AKIONLY' }, env: EUCARC });
    expect(!r.ok && describeOpenTargetFailure(r.error)).toBe(
      'publish.credentials.secretKey: the access key id AKIONLY is given without its secret key: export EC2_SECRET_KEY',
    );
  });
});
