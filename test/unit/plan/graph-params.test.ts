// The build steps' params, one recipe section at a time: what each step is given, and that
// host files reach it as named inputs, never as paths in its params.
import { describe, expect, test } from '@jest/globals';
import {
  bootTestParams,
  createDiskParams,
  customizeParams,
  extractRootfsParams,
  installParams,
} from '../../../src/plan/graph-params.js';
import type { Recipe } from '../../../src/recipe/model.js';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

function recipeOf(text: string): Recipe {
  const loaded = loadRecipeText('/recipes/demo/recipe.yaml', text, {
    env: {},
    strictInputs: false,
    fileExists: () => true,
  });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.recipe;
}

const DEBOOTSTRAP = `name: demo
disk: { size: 2G, format: raw }
install: { debootstrap: { suite: bookworm, mirror: "http://deb.example.org/debian" } }
`;
const ISO = `name: demo
disk: { size: 2G }
install:
  iso: { path: ./x.iso }
  answers: kickstart
  answerFile: ./ks.cfg
  vm: { memory: 2G, timeout: 30m }
`;

describe('build step params', () => {
  test('create-disk: the disk', () => {
    expect(createDiskParams(recipeOf(DEBOOTSTRAP))).toEqual({
      sizeBytes: 2 * 2 ** 30,
      format: 'raw',
    });
  });

  test('install-os with debootstrap: the disk too (debootstrap partitions it), no inputs', () => {
    const { params, inputs } = installParams(recipeOf(DEBOOTSTRAP));
    expect(params).toMatchObject({
      source: 'debootstrap',
      suite: 'bookworm',
      mirror: 'http://deb.example.org/debian',
      diskSizeBytes: 2 * 2 ** 30,
      diskFormat: 'raw',
    });
    expect(inputs).toEqual([]);
  });

  test('install-os from an ISO: the ISO and the answer file are inputs, not params', () => {
    const { params, inputs } = installParams(recipeOf(ISO));
    expect(params).toMatchObject({
      source: 'iso',
      answers: 'kickstart',
      sha256: null,
      url: null,
      memoryBytes: 2 * 2 ** 30,
      timeoutMs: 30 * 60_000,
    });
    expect(inputs).toEqual([
      { name: 'iso', path: '/recipes/demo/x.iso' },
      { name: 'answer-file', path: '/recipes/demo/ks.cfg' },
    ]);
    expect(JSON.stringify(params)).not.toContain('/recipes/demo');
  });

  test('customize: the customisation as is; a host file is input files[<index>] without its path', () => {
    const recipe = recipeOf(`${DEBOOTSTRAP}customize:
  users: [{ name: ann, uid: 1500 }]
  files:
    - { path: /etc/motd, content: "hi" }
    - { path: /etc/issue, source: ./files/issue, mode: "0600" }
`);
    const { params, inputs } = customizeParams(recipe.customize, false);
    expect(params.users).toBe(recipe.customize.users);
    expect(params).not.toHaveProperty('portableNetwork');
    expect(params.files).toEqual([
      { path: '/etc/motd', content: 'hi', mode: 0o644, owner: 'root:root' },
      { path: '/etc/issue', content: null, mode: 0o600, owner: 'root:root' },
    ]);
    expect(inputs).toEqual([{ name: 'files[1]', path: '/recipes/demo/files/issue' }]);
    expect(JSON.stringify(params)).not.toContain('/recipes/demo');
  });

  test("customize after an ISO install: the installer VM's NIC name is not kept (portableNetwork)", () => {
    const recipe = recipeOf(DEBOOTSTRAP);
    expect(customizeParams(recipe.customize, true).params.portableNetwork).toBe(true);
  });

  test('extract-rootfs: the image named after the recipe, the disk size by default', () => {
    expect(extractRootfsParams(recipeOf(DEBOOTSTRAP))).toEqual({
      sizeBytes: 2 * 2 ** 30,
      name: 'demo.img',
    });
  });

  test('boot-test: root when no user is named', () => {
    expect(bootTestParams(recipeOf(`${DEBOOTSTRAP}test: { boot: false }\n`).test)).toEqual({
      user: 'root',
      commands: [],
      timeoutMs: 5 * 60_000,
      memoryBytes: 2 ** 30,
      cpus: 1,
      accel: 'auto',
    });
  });
});
