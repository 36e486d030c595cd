// hvm images: customize installs grub-pc, which make-bootable needs, for debootstrap
// installs and ISO installs of Debian-family systems (preseed, autoinstall); install-os is
// the paravirtual recipe's own (one fingerprint); paravirtual recipes keep customize as written.
import { describe, expect, test } from '@jest/globals';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import type { StepSpec } from '../../../src/plan/step.js';
import type { CustomizeParams } from '../../../src/plan/step-params.js';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

function stepsOf(text: string): readonly StepSpec[] {
  const loaded = loadRecipeText('/recipes/demo/recipe.yaml', text, {
    env: {},
    strictInputs: false,
    fileExists: () => true,
  });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  return defaultGraphInput(loaded.recipe).steps;
}

function customizePackages(text: string): readonly string[] {
  const step = stepsOf(text).find((s) => s.id === 'customize');
  if (!step) throw new Error('no customize step');
  return (step.params as CustomizeParams).packages;
}

const iso = (answers: string, extra = '') => `name: demo
disk: { size: 2G }
install: { iso: { path: ./x.iso }, answers: ${answers} }
${extra}`;

const HVM = 'image: { virtualization: hvm }\n';

describe('hvm from an ISO install: grub-pc in customize', () => {
  test.each(['preseed', 'autoinstall'])('%s: grub-pc is added after the recipe’s packages', (a) => {
    expect(customizePackages(iso(a, `${HVM}customize: { packages: [curl] }\n`))).toEqual([
      'curl',
      'grub-pc',
    ]);
    expect(customizePackages(iso(a, HVM))).toEqual(['grub-pc']);
  });

  test('a grub-pc the recipe lists (or with a version) is not added twice', () => {
    for (const listed of ['grub-pc', 'grub-pc=2.06-13+deb12u2'])
      expect(
        customizePackages(iso('preseed', `${HVM}customize: { packages: ["${listed}", curl] }\n`)),
      ).toEqual([listed, 'curl']);
  });

  test('paravirtual installs are left alone', () => {
    // (hvm with kickstart is refused by validate: recipe/rules-hvm.ts.)
    expect(customizePackages(iso('preseed'))).toEqual([]);
    expect(customizePackages(iso('kickstart'))).toEqual([]);
    expect(customizePackages(debootstrap(''))).toEqual(['less']);
  });
});

const debootstrap = (extra: string, packages = '[curl]') => `name: demo
disk: { size: 2G }
install: { debootstrap: { suite: bookworm, packages: ${packages} } }
customize: { packages: [less] }
${extra}`;

describe('hvm from debootstrap: grub-pc in customize, install-os as paravirtual', () => {
  test("grub-pc is added after customize's packages, not to debootstrap's", () => {
    expect(customizePackages(debootstrap(HVM))).toEqual(['less', 'grub-pc']);
    const install = stepsOf(debootstrap(HVM)).find((s) => s.id === 'install-os');
    expect(install?.params).toMatchObject({ packages: ['curl'] });
  });

  test('install-os has the fingerprint of the paravirtual build of the same system', () => {
    const installOf = (text: string) => stepsOf(text).find((s) => s.id === 'install-os');
    expect(installOf(debootstrap(HVM))?.params).toEqual(installOf(debootstrap(''))?.params);
  });

  test("a grub-pc in debootstrap's own packages is not installed again", () => {
    expect(customizePackages(debootstrap(HVM, '[curl, grub-pc]'))).toEqual(['less']);
  });
});
