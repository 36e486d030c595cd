// The graph of an hvm image (recipe `image.virtualization: hvm`): one bootable disk, no
// kernel or ramdisk images. Pure; default-graph.ts picks it and adds the reference edges.
//
//   create-disk -> install-os -> customize -> make-bootable -> extract-disk -> bundle-machine
//                                                                   |                |
//                                                                   |          upload-machine
//                                                                   +-> [boot-test] -+-> register-machine
//
// make-bootable uses the image's own GRUB: customize installs grub-pc (debootstrap installs
// and ISO installs of Debian-family systems), so install-os is the paravirtual recipe's own.
import type { Recipe } from '../recipe/model.js';
import { bootTestParams } from './graph-params.js';
import { bundleParams, publishingOf, registerParams } from './graph-publish.js';
import type { StepId } from './step.js';
import type { BuiltinStepSpec } from './step-params.js';
import { customizeStep, diskAndInstallSteps, spec, STEP } from './graph-build.js';

const id = (text: string): StepId => text as StepId;

/** The steps only hvm graphs have. */
export const HVM_STEP = {
  makeBootable: id('make-bootable'),
  extractDisk: id('extract-disk'),
} as const;

/** The package that gives an hvm image its boot loader (GRUB for BIOS). */
export const HVM_BOOT_PACKAGE = 'grub-pc';

/** The answer-file flavours whose systems are Debian-family (apt, Debian's grub-pc layout). */
const DEBIAN_FAMILY_ANSWERS: readonly string[] = ['preseed', 'autoinstall'];

/** A package's name without its version (`grub-pc=2.06-13`). */
const packageName = (p: string): string => p.split('=')[0] ?? p;

/**
 * The recipe whose customize step installs grub-pc, which make-bootable needs (the image's
 * own GRUB), for a debootstrap install and an ISO install of a Debian-family system (the
 * generated answers skip the installer's boot loader). In customize, not in debootstrap's
 * packages: install-os stays the one the paravirtual build of the same system makes (one
 * fingerprint, one step cache entry), and apt installs it in about a second where debootstrap
 * took several (docs/build-steps.md). A recipe that lists grub-pc itself (in
 * customize, or in a debootstrap install's packages), and other installs, come back as they
 * are.
 */
export function withBootPackage(recipe: Recipe): Recipe {
  const { install, customize } = recipe;
  if (install.kind === 'iso' && !DEBIAN_FAMILY_ANSWERS.includes(install.answers)) return recipe;
  const listed = [
    ...customize.packages,
    ...(install.kind === 'debootstrap' ? install.packages : []),
  ];
  if (listed.some((p) => packageName(p) === HVM_BOOT_PACKAGE)) return recipe;
  return {
    ...recipe,
    customize: { ...customize, packages: [...customize.packages, HVM_BOOT_PACKAGE] },
  };
}

/** Every step of an hvm recipe, in the order plans list them. */
export function hvmGraphSteps(recipe: Recipe): BuiltinStepSpec[] {
  const publishing = publishingOf(recipe);
  const { target, bundleInputs, upload } = publishing;
  const customize = customizeStep(withBootPackage(recipe));
  const bootTest = recipe.test.boot
    ? spec(STEP.bootTest, 'boot-test', [HVM_STEP.extractDisk], ['test'], {
        firmware: 'bios',
        ...bootTestParams(recipe.test),
      })
    : undefined;
  const blockDeviceMapping = Object.entries(recipe.bundle.blockDeviceMapping).map(
    ([virtual, device]) => ({ virtual, device }),
  );
  return [
    ...diskAndInstallSteps(recipe),
    customize,
    spec(HVM_STEP.makeBootable, 'make-bootable', [STEP.customize], ['image'], {
      bootLoader: 'grub-pc',
      kernel: recipe.extract.kernel,
    }),
    spec(HVM_STEP.extractDisk, 'extract-disk', [HVM_STEP.makeBootable], ['extract'], {
      name: `${recipe.name}.img`,
    }),
    spec(
      STEP.bundleMachine,
      'bundle-image',
      [HVM_STEP.extractDisk],
      ['bundle'],
      { ...bundleParams(recipe, 'machine', target), blockDeviceMapping },
      bundleInputs,
    ),
    spec(STEP.uploadMachine, 'upload-bundle', [STEP.bundleMachine], ['publish'], upload),
    ...(bootTest ? [bootTest] : []),
    spec(
      STEP.registerMachine,
      'register-image',
      bootTest ? [STEP.uploadMachine, bootTest.id] : [STEP.uploadMachine],
      ['publish'],
      {
        ...registerParams(recipe, 'machine', target),
        virtualization: 'hvm',
        rootDeviceName: hvmRootDevice(recipe.bundle.blockDeviceMapping),
      },
    ),
  ];
}

/**
 * The root device an hvm instance-store image's manifest implies, as Eucalyptus derives it
 * (MachineImageInfo.getRootDeviceName): the `ami` mapping with `/dev/` added, else the
 * whole disk, `/dev/sda`. Sent as RootDeviceName, so it never contradicts the manifest.
 */
export function hvmRootDevice(mapping: Readonly<Record<string, string>>): string {
  const ami = mapping.ami;
  if (ami === undefined || ami === '') return '/dev/sda';
  return ami.startsWith('/dev/') ? ami : `/dev/${ami}`;
}
