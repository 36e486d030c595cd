// The model built from valid recipes: defaults, units, paths, eucarc variables.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { repoPath } from '../../helpers/paths.js';

function load(text: string, env: Record<string, string> = {}, strictInputs = false) {
  return loadRecipeText('/recipes/demo/recipe.yaml', text, {
    env,
    strictInputs,
    fileExists: (p) => p.endsWith('exists.iso'),
  });
}

describe('loadRecipeText', () => {
  test('applies defaults to a minimal debootstrap recipe', () => {
    const text = readFileSync(
      repoPath('test/fixtures/recipes/valid/minimal-debootstrap.yaml'),
      'utf8',
    );
    const { recipe, diagnostics } = load(text);
    expect(diagnostics).toEqual([]);
    expect(recipe).toMatchObject({
      name: 'demo-image',
      arch: 'x86_64',
      dir: '/recipes/demo',
      disk: { sizeBytes: 2 * 2 ** 30, format: 'qcow2' },
      install: {
        kind: 'debootstrap',
        suite: 'bookworm',
        variant: 'minbase',
        components: ['main'],
        kernelPackage: 'linux-image-cloud-amd64',
      },
      customize: {
        packages: [],
        users: [],
        remove: ['/etc/udev/rules.d/70-persistent-net.rules'],
        commands: [],
      },
      extract: { kernel: 'newest', rootfsSizeBytes: 2 * 2 ** 30 },
      bundle: { partSizeBytes: 10 * 2 ** 20 },
      publish: {
        cloud: 'local',
        bucket: 'emi-recipe',
        prefix: 'demo-image',
        names: {
          kernel: 'demo-image-kernel',
          ramdisk: 'demo-image-ramdisk',
          machine: 'demo-image',
        },
        acl: 'aws-exec-read',
        public: false,
      },
      test: { boot: false, timeoutMs: 300_000, cpus: 1, accel: 'auto' },
    });
    expect(recipe?.install).not.toHaveProperty('mirror');
  });

  test('a whole-value placeholder takes the type its value spells', () => {
    const text = readFileSync(repoPath('test/fixtures/recipes/valid/env-typed.yaml'), 'utf8');
    const { recipe, diagnostics } = load(text, { EMI_TEST_CPUS: '3', EMI_TEST_BOOT: 'false' });
    expect(diagnostics).toEqual([]);
    expect(recipe?.name).toBe('env-typed');
    expect(recipe?.disk.sizeBytes).toBe(3 * 2 ** 30);
    expect(recipe?.install.kind === 'iso' && recipe.install.vm).toEqual({
      cpus: 3,
      memoryBytes: 1536 * 2 ** 20,
      accel: 'auto',
      timeoutMs: 3_600_000,
    });
    expect(recipe?.install.kind === 'iso' && recipe.install.iso.sha256).toBe(
      `abcdef${'0'.repeat(58)}`,
    );
    expect(recipe?.customize.rcLocal?.lines).toEqual(['echo ${HOME} is literal']);
  });

  test('relative paths resolve against the recipe folder', () => {
    const { recipe } = load(`name: isotest
disk: { size: 1G }
install:
  iso: { path: isos/exists.iso }
  answers: kickstart
`);
    expect(recipe?.install.kind === 'iso' && recipe.install.iso.path).toEqual({
      path: '/recipes/demo/isos/exists.iso',
      written: 'isos/exists.iso',
    });
  });

  test('eucarc variables fill bundle and publish settings for a real cloud', () => {
    const env = {
      EC2_URL: 'https://ec2.example.org/',
      S3_URL: 'https://s3.example.org/',
      EC2_USER_ID: '1234-5678-9012',
      EC2_CERT: '/keys/exists.iso',
      EC2_PRIVATE_KEY: '/keys/exists.iso',
      EUCALYPTUS_CERT: '/keys/exists.iso',
      EC2_ACCESS_KEY: 'AKID',
      EC2_SECRET_KEY: 'secret',
    };
    const { recipe, diagnostics } = load(
      `name: euca
disk: { size: 1G }
install: { debootstrap: { suite: bookworm } }
publish: { cloud: eucalyptus }
`,
      env,
      true,
    );
    expect(diagnostics).toEqual([]);
    expect(recipe?.bundle).toMatchObject({
      account: '123456789012',
      cert: { path: '/keys/exists.iso', written: '$EC2_CERT' },
    });
    expect(recipe?.publish).toMatchObject({
      endpoints: { ec2: 'https://ec2.example.org/', s3: 'https://s3.example.org/' },
      region: 'eucalyptus',
      credentials: { accessKey: 'AKID', secretKey: 'secret' },
    });
  });

  test('plan mode turns missing machine inputs into errors', () => {
    const text = `name: isotest
disk: { size: 1G }
install:
  iso: { path: ./missing.iso }
  answers: preseed
`;
    expect(load(text, {}, false).diagnostics.map((d) => d.severity)).toEqual(['warning']);
    const strict = load(text, {}, true);
    expect(strict.recipe).toBeUndefined();
    expect(strict.diagnostics).toMatchObject([
      {
        severity: 'error',
        message: expect.stringContaining("file not found: './missing.iso'") as unknown,
      },
    ]);
  });
});
