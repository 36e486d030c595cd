// What the CLI derives from a recipe for the step kinds: the publishing target (equal to
// the one every publishing step's params carry), its secret kept apart, the embedded
// cloud's data dir beside the recipe, the bundle identity files and pre-flight's values.
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { stepKindOptions } from '../../../src/cli/step-kind-options.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { buildGraph } from '../../../src/plan/graph.js';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

const DIR = '/srv/recipes';

function load(publish: string, env: Record<string, string> = {}) {
  const text = `name: demo\ndisk: { size: 2G }\ninstall: { debootstrap: { suite: bookworm } }\n${publish}`;
  const loaded = loadRecipeText(join(DIR, 'demo.yaml'), text, { env, strictInputs: false });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics, null, 2));
  return loaded.recipe;
}

const EUCARC = {
  EC2_URL: 'http://euca:8773/services/compute',
  S3_URL: 'http://euca:8773/services/objectstorage',
  EC2_ACCESS_KEY: 'AKIEUCARC',
  EC2_SECRET_KEY: 'eucarc-secret-value',
  EC2_USER_ID: '1234-5678-9012',
  EC2_CERT: '/keys/cert.pem',
  EC2_PRIVATE_KEY: '/keys/pk.pem',
  EUCALYPTUS_CERT: '/keys/cloud-cert.pem',
};

const recipes = {
  local: () => load('publish: { cloud: local, bucket: images }\n'),
  eucarc: () => load('publish: { cloud: eucalyptus }\n', EUCARC),
  aws: () =>
    load(
      'image: { virtualization: hvm }\npublish: { cloud: aws, region: eu-west-1, bucket: my-images, prefix: p }\n',
      {
        EC2_ACCESS_KEY: 'AKIAWS',
        EC2_SECRET_KEY: 'aws-secret',
        EC2_USER_ID: '123456789012',
        EC2_CERT: '/k/c.pem',
        EC2_PRIVATE_KEY: '/k/k.pem',
        EUCALYPTUS_CERT: '/k/cc.pem',
      },
    ),
};

describe('stepKindOptions', () => {
  test.each(Object.keys(recipes) as (keyof typeof recipes)[])(
    '%s: the target is the one in every publishing step of the graph',
    (name) => {
      const recipe = recipes[name]();
      const graph = buildGraph(defaultGraphInput(recipe)).graph;
      if (!graph) throw new Error('no graph');
      const targets = [...graph.byId.values()]
        .map((step) => (step.params as { target?: unknown }).target)
        .filter((t) => t !== undefined);
      // Paravirtual: three bundles, uploads and registrations; hvm (aws): one of each.
      expect(targets.length).toBeGreaterThanOrEqual(name === 'aws' ? 3 : 6);
      const { target } = stepKindOptions(recipe).publish;
      for (const t of targets) expect(t).toEqual(target);
    },
  );

  test('a local recipe: data dir beside the recipe, no secret, no identity files', () => {
    const options = stepKindOptions(recipes.local());
    expect(options.publish).toEqual({
      target: {
        cloud: 'local',
        ec2Endpoint: null,
        s3Endpoint: null,
        region: 'local',
        accessKeyId: null,
      },
      secretKey: null,
      localDataDir: '/srv/recipes/.emi-recipe/local-cloud',
      identity: { account: null, certPath: null, privateKeyPath: null, cloudCertPath: null },
    });
    expect(options.preflight).toEqual({
      bucket: 'images',
      prefix: 'demo',
      imageSizeBytes: recipes.local().extract.rootfsSizeBytes,
      registersKernel: true,
    });
  });

  test('an hvm recipe: the image is the whole disk, and no kernel is registered (no admin-rights warning)', () => {
    const recipe = recipes.aws();
    expect(stepKindOptions(recipe).preflight).toEqual({
      bucket: 'my-images',
      prefix: 'p',
      imageSizeBytes: recipe.disk.sizeBytes,
      registersKernel: false,
    });
  });

  test('eucarc: endpoints, key pair and identity files; the secret only in secretKey', () => {
    const { publish } = stepKindOptions(recipes.eucarc());
    expect(publish.target).toEqual({
      cloud: 'eucalyptus',
      ec2Endpoint: EUCARC.EC2_URL,
      s3Endpoint: EUCARC.S3_URL,
      region: 'eucalyptus',
      accessKeyId: 'AKIEUCARC',
    });
    expect(publish.secretKey).toBe('eucarc-secret-value');
    expect(JSON.stringify(publish.target)).not.toContain('eucarc-secret-value');
    expect(publish.identity).toEqual({
      account: '123456789012',
      certPath: '/keys/cert.pem',
      privateKeyPath: '/keys/pk.pem',
      cloudCertPath: '/keys/cloud-cert.pem',
    });
  });
});
