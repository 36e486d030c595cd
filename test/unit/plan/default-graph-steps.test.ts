// The default graph's step groups on their own: ids, kinds, needs and sections, and the
// boot test gating the machine registration.
import { describe, expect, test } from '@jest/globals';
import {
  bootImageSteps,
  bootTestStep,
  customizeAndExtractSteps,
  diskAndInstallSteps,
  machineImageSteps,
} from '../../../src/plan/default-graph.js';
import { publishingOf } from '../../../src/plan/graph-publish.js';
import type { StepSpec } from '../../../src/plan/step.js';
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

const shape = (step: StepSpec) =>
  `${step.id} (${step.kind}) <- [${step.needs.join(', ')}] at ${step.section.join('.')}`;

const RECIPE = recipeOf(`name: demo
disk: { size: 2G }
install: { debootstrap: { suite: bookworm } }
customize:
  users: [{ name: demo }]
  rcLocal: { metadataSshKey: { user: demo } }
  files: [{ path: /etc/motd, source: ./motd }]
test: { boot: true }
`);

describe('default graph step groups', () => {
  test('disk and install', () => {
    expect(diskAndInstallSteps(RECIPE).map(shape)).toEqual([
      'create-disk (create-disk) <- [] at disk',
      'install-os (install-os) <- [create-disk] at install',
    ]);
  });

  test('customize and extract; the customize step reads the host file as files[0]', () => {
    const steps = customizeAndExtractSteps(RECIPE);
    expect(steps.map(shape)).toEqual([
      'customize (customize) <- [install-os] at customize',
      'extract-kernel (extract-kernel) <- [customize] at extract.kernel',
      'extract-ramdisk (extract-ramdisk) <- [customize] at extract.kernel',
      'extract-rootfs (extract-rootfs) <- [customize] at extract',
    ]);
    expect(steps[0]?.inputs).toEqual([{ name: 'files[0]', path: '/recipes/demo/motd' }]);
  });

  test.each(['kernel', 'ramdisk'] as const)('the %s: bundle, upload, register', (type) => {
    const steps = bootImageSteps(RECIPE, type, publishingOf(RECIPE));
    expect([steps.bundle, steps.upload, steps.register].map(shape)).toEqual([
      `bundle-${type} (bundle-image) <- [extract-${type}] at bundle`,
      `upload-${type} (upload-bundle) <- [bundle-${type}] at publish`,
      `register-${type} (register-image) <- [upload-${type}] at publish`,
    ]);
  });

  test('the machine: parts, then the manifest after the kernel and ramdisk ids', () => {
    const steps = machineImageSteps(RECIPE, publishingOf(RECIPE), undefined);
    expect([steps.bundle, steps.manifest, steps.upload, steps.register].map(shape)).toEqual([
      'bundle-machine (bundle-parts) <- [extract-rootfs] at bundle',
      'manifest-machine (bundle-manifest) <- [bundle-machine, register-kernel, register-ramdisk] at bundle',
      'upload-machine (upload-bundle) <- [manifest-machine] at publish',
      'register-machine (register-image) <- [upload-machine] at publish',
    ]);
  });

  test('a boot test runs on the extracted files and gates the machine registration', () => {
    const bootTest = bootTestStep(RECIPE);
    expect(shape(bootTest)).toBe(
      'boot-test (boot-test) <- [extract-kernel, extract-ramdisk, extract-rootfs] at test',
    );
    expect(bootTest.params).toMatchObject({ user: 'demo' });
    expect(machineImageSteps(RECIPE, publishingOf(RECIPE), bootTest).register.needs).toEqual([
      'upload-machine',
      'boot-test',
    ]);
  });
});
