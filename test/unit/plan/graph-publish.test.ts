// The publishing steps' params: the target without secrets, the key files as inputs (the
// private key marked secret), the names Eucalyptus reads the image type from.
import { describe, expect, test } from '@jest/globals';
import {
  bundleInputs,
  bundleParams,
  manifestParams,
  publishingOf,
  registerParams,
} from '../../../src/plan/graph-publish.js';
import type { Recipe } from '../../../src/recipe/model.js';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

function recipeOf(text: string, env: Record<string, string> = {}): Recipe {
  const loaded = loadRecipeText('/recipes/demo/recipe.yaml', text, {
    env,
    strictInputs: false,
    fileExists: () => true,
  });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.recipe;
}

const LOCAL = `name: demo
description: the demo
disk: { size: 2G }
install: { debootstrap: { suite: bookworm } }
`;
const EUCALYPTUS = `${LOCAL}bundle:
  account: 1234-5678-9012
  cert: ./keys/cert.pem
  privateKey: ./keys/pk.pem
  blockDeviceMapping: { ami: sda1, root: /dev/sda1 }
publish:
  cloud: eucalyptus
  endpoints: { ec2: "https://ec2.example.org/", s3: "https://s3.example.org/" }
  credentials: { accessKey: AKID, secretKey: "\${env.SECRET}" }
  names: { kernel: my-eki }
`;
const ENV = { SECRET: 'the-secret', EUCALYPTUS_CERT: '/etc/euca/cloud-cert.pem' };

describe('publishing step params', () => {
  test('the local cloud: no endpoints, no key id, no key files', () => {
    const publishing = publishingOf(recipeOf(LOCAL));
    expect(publishing.target).toEqual({
      cloud: 'local',
      ec2Endpoint: null,
      s3Endpoint: null,
      region: 'local',
      accessKeyId: null,
    });
    expect(publishing.bundleInputs).toEqual([]);
    expect(publishing.upload).toEqual({
      bucket: 'emi-recipe',
      prefix: 'demo',
      acl: 'aws-exec-read',
      target: publishing.target,
    });
  });

  test('a real cloud: the key id but never the secret; the key files as inputs', () => {
    const recipe = recipeOf(EUCALYPTUS, ENV);
    const publishing = publishingOf(recipe);
    expect(publishing.target).toMatchObject({
      cloud: 'eucalyptus',
      ec2Endpoint: 'https://ec2.example.org/',
      accessKeyId: 'AKID',
    });
    expect(JSON.stringify(publishing)).not.toContain('the-secret');
    expect(bundleInputs(recipe.bundle)).toEqual([
      { name: 'cert', path: '/recipes/demo/keys/cert.pem' },
      { name: 'private-key', path: '/recipes/demo/keys/pk.pem', secret: true },
      { name: 'cloud-cert', path: '/etc/euca/cloud-cert.pem' },
    ]);
  });

  test.each([
    ['kernel', 'vmlinuz-demo'],
    ['ramdisk', 'initrd-demo'],
    ['machine', 'demo.img'],
  ] as const)(
    'the %s bundle is prefixed %s (Eucalyptus reads the type from it)',
    (type, prefix) => {
      const recipe = recipeOf(EUCALYPTUS, ENV);
      expect(bundleParams(recipe, type, publishingOf(recipe).target)).toMatchObject({
        imageType: type,
        prefix,
        account: '123456789012',
        partSizeBytes: 10 * 2 ** 20,
      });
    },
  );

  test('the manifest lists the block device mapping; images register under publish.names', () => {
    const recipe = recipeOf(EUCALYPTUS, ENV);
    const { target } = publishingOf(recipe);
    expect(manifestParams(recipe, target).blockDeviceMapping).toEqual([
      { virtual: 'ami', device: 'sda1' },
      { virtual: 'root', device: '/dev/sda1' },
    ]);
    expect(registerParams(recipe, 'kernel', target)).toMatchObject({
      name: 'my-eki',
      description: 'the demo',
      public: false,
    });
    expect(registerParams(recipe, 'ramdisk', target).name).toBe('demo-ramdisk');
    expect(
      registerParams(recipeOf(LOCAL.replace('description: the demo\n', '')), 'machine', target),
    ).toMatchObject({ name: 'demo', description: null });
  });
});
