// normalizeRecipe parses nothing: sizes and durations come from the rules (one parse), and
// the customisation comes out in the guest generators' shapes (guest/spec.ts).
import { describe, expect, test } from '@jest/globals';
import { normalizeRecipe } from '../../../src/recipe/normalize.js';
import { parseRecipeText } from '../../../src/recipe/parse.js';
import type { RawRecipe } from '../../../src/recipe/raw.js';
import type { RecipeSizes } from '../../../src/recipe/rules-sizes.js';

const TEXT = 'name: demo\n';

function normalize(raw: RawRecipe, sizes: RecipeSizes) {
  const parsed = parseRecipeText('/recipes/demo/recipe.yaml', TEXT, {}).recipe;
  if (!parsed) throw new Error('unparsable test recipe');
  return normalizeRecipe(
    { raw, sizes, parsed },
    { path: '/recipes/demo/recipe.yaml', dir: '/recipes/demo', env: {} },
  );
}

/** Numbers no recipe text below spells: where one shows up, it came from here. */
const SIZES: RecipeSizes = {
  diskBytes: 1001,
  swapBytes: 1002,
  installVm: { memoryBytes: 1003, timeoutMs: 1004 },
  rootfsBytes: 1005,
  partSizeBytes: 1006,
  test: { memoryBytes: 1007, timeoutMs: 1008 },
  metadataKeyTimeoutMs: 1009,
  storeLeaseMs: 1010,
};

describe('normalizeRecipe', () => {
  test('takes every size and duration from the rules, never from the text', () => {
    const recipe = normalize(
      {
        name: 'demo',
        disk: { size: '2G' },
        install: {
          iso: { path: './x.iso' },
          answers: 'preseed',
          swap: '1G',
          vm: { memory: '4G', timeout: '1h' },
        },
        customize: { rcLocal: { metadataSshKey: { user: 'root', timeout: '5s' } } },
        extract: { rootfsSize: '3G' },
        bundle: { partSize: '1M' },
        test: { memory: '2G', timeout: '1m' },
        store: { url: 's3://state/ci', lease: '2m' },
      },
      SIZES,
    );
    expect(recipe.disk.sizeBytes).toBe(1001);
    expect(recipe.store).toEqual({ url: 's3://state/ci', leaseMs: 1010 });
    expect(recipe.install).toMatchObject({
      kind: 'iso',
      swapBytes: 1002,
      vm: { memoryBytes: 1003, timeoutMs: 1004, cpus: 2, accel: 'auto' },
    });
    expect(recipe.extract.rootfsSizeBytes).toBe(1005);
    expect(recipe.bundle.partSizeBytes).toBe(1006);
    expect(recipe.test).toMatchObject({ memoryBytes: 1007, timeoutMs: 1008 });
    expect(recipe.customize.rcLocal?.metadataSshKey?.timeoutMs).toBe(1009);
  });

  test('builds the customisation in the guest shapes: null where the recipe gives nothing', () => {
    const recipe = normalize(
      {
        name: 'demo',
        disk: { size: '2G' },
        install: { debootstrap: { suite: 'bookworm' } },
        customize: {
          users: [{ name: 'ann' }, { name: 'bob', uid: 1500, comment: 'Bob' }],
          files: [
            { path: '/etc/motd', content: 'hi\n' },
            { path: '/etc/issue', source: 'files/issue', mode: '0600', owner: 'bob' },
          ],
        },
      },
      SIZES,
    );
    expect(recipe.customize).toEqual({
      packages: [],
      users: [
        {
          name: 'ann',
          groups: [],
          shell: '/bin/bash',
          sudo: false,
          sshAuthorizedKeys: [],
          uid: null,
          comment: null,
        },
        {
          name: 'bob',
          groups: [],
          shell: '/bin/bash',
          sudo: false,
          sshAuthorizedKeys: [],
          uid: 1500,
          comment: 'Bob',
        },
      ],
      files: [
        { path: '/etc/motd', content: 'hi\n', source: null, mode: 0o644, owner: 'root:root' },
        {
          path: '/etc/issue',
          content: null,
          source: { path: '/recipes/demo/files/issue', written: 'files/issue' },
          mode: 0o600,
          owner: 'bob',
        },
      ],
      remove: ['/etc/udev/rules.d/70-persistent-net.rules'],
      rcLocal: null,
      commands: [],
      sshHostKeyTypes: ['rsa', 'ecdsa', 'ed25519'],
    });
  });

  test('an rc.local without a metadata key has a null key', () => {
    const recipe = normalize(
      {
        name: 'demo',
        disk: { size: '2G' },
        install: { debootstrap: { suite: 'bookworm' } },
        customize: { rcLocal: { modules: ['virtio'] } },
      },
      SIZES,
    );
    expect(recipe.customize.rcLocal).toEqual({
      metadataSshKey: null,
      modules: ['virtio'],
      lines: [],
    });
    expect(recipe.test).not.toHaveProperty('user');
  });
});
