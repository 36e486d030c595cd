// The default graph: a recipe turned into steps with their params, inputs and needs.
// Pure. An hvm recipe gets graph-hvm.ts's shape; a paravirtual one this shape
// (shared/DESIGN.md), with the boot test gating the machine registration:
//
//   create-disk -> install-os -> customize -+-> extract-kernel -> bundle-kernel -> upload-kernel -> register-kernel --+
//                                           +-> extract-ramdisk -> bundle-ramdisk -> upload-ramdisk -> register-ramdisk +
//                                           +-> extract-rootfs -> bundle-machine (parts) ---------> manifest-machine <--+
//                                                      |                                                 |
//                                                      +--> [boot-test] --------------------+   upload-machine
//                                                                                           +-> register-machine
import type { Location } from '../core/diagnostic.js';
import type { LocatedStepReference } from '../recipe/source-map.js';
import type { Recipe } from '../recipe/model.js';
import type { GraphInput } from './graph.js';
import { customizeStep, diskAndInstallSteps, spec, STEP } from './graph-build.js';
import { hvmGraphSteps } from './graph-hvm.js';
import { bootTestParams, extractRootfsParams } from './graph-params.js';
import {
  bundleParams,
  manifestParams,
  publishingOf,
  registerParams,
  type Publishing,
} from './graph-publish.js';
import type { StepId } from './step.js';
import type { BuiltinStepSpec, ExtractBootParams } from './step-params.js';

export { diskAndInstallSteps, spec, STEP } from './graph-build.js';

/**
 * The steps for a recipe, plus what buildGraph needs to report problems at recipe
 * locations. `${steps.<id>.<output>}` placeholders add edges from the step that reads
 * them to the step named. The order of the steps is the order plans list them in.
 */
export function defaultGraphInput(recipe: Recipe): GraphInput<BuiltinStepSpec> {
  if (recipe.image.virtualization === 'hvm') return withBootTestEdge(recipe, hvmGraphSteps(recipe));
  const publishing = publishingOf(recipe);
  const kernel = bootImageSteps(recipe, 'kernel', publishing);
  const ramdisk = bootImageSteps(recipe, 'ramdisk', publishing);
  const bootTest = recipe.test.boot ? bootTestStep(recipe) : undefined;
  const machine = machineImageSteps(recipe, publishing, bootTest);
  const steps = [
    ...diskAndInstallSteps(recipe),
    ...customizeAndExtractSteps(recipe),
    kernel.bundle,
    ramdisk.bundle,
    machine.bundle,
    kernel.upload,
    ramdisk.upload,
    kernel.register,
    ramdisk.register,
    machine.manifest,
    machine.upload,
    ...(bootTest ? [bootTest] : []),
    machine.register,
  ];
  return withBootTestEdge(recipe, steps);
}

/** The steps with their reference edges, and the place of the boot test's edge (`test.boot`). */
function withBootTestEdge(
  recipe: Recipe,
  steps: readonly BuiltinStepSpec[],
): GraphInput<BuiltinStepSpec> {
  const input = withReferenceEdges(recipe, steps);
  if (!recipe.test.boot) return input;
  // This edge comes from `test.boot: true`: say so when it is part of a cycle.
  const edges = new Map(input.edgeLocations);
  edges.set(`${STEP.registerMachine}->${STEP.bootTest}`, recipe.sourceMap.locate(['test', 'boot']));
  return { ...input, edgeLocations: edges };
}

/** customize on the installed disk, then the kernel, ramdisk and root file system out of it. */
export function customizeAndExtractSteps(recipe: Recipe): BuiltinStepSpec[] {
  const boot: ExtractBootParams = { kernel: recipe.extract.kernel };
  return [
    customizeStep(recipe),
    spec(STEP.extractKernel, 'extract-kernel', [STEP.customize], ['extract', 'kernel'], boot),
    spec(STEP.extractRamdisk, 'extract-ramdisk', [STEP.customize], ['extract', 'kernel'], boot),
    spec(
      STEP.extractRootfs,
      'extract-rootfs',
      [STEP.customize],
      ['extract'],
      extractRootfsParams(recipe),
    ),
  ];
}

/** The steps that take the kernel or the ramdisk from its extract step to a registered image. */
const BOOT_IMAGE_STEPS = {
  kernel: {
    extract: STEP.extractKernel,
    bundle: STEP.bundleKernel,
    upload: STEP.uploadKernel,
    register: STEP.registerKernel,
  },
  ramdisk: {
    extract: STEP.extractRamdisk,
    bundle: STEP.bundleRamdisk,
    upload: STEP.uploadRamdisk,
    register: STEP.registerRamdisk,
  },
} as const;

/** A kernel or ramdisk: bundle-image (parts and manifest), upload-bundle, register-image. */
export function bootImageSteps(
  recipe: Recipe,
  imageType: 'kernel' | 'ramdisk',
  publishing: Publishing,
): {
  readonly bundle: BuiltinStepSpec;
  readonly upload: BuiltinStepSpec;
  readonly register: BuiltinStepSpec;
} {
  const ids = BOOT_IMAGE_STEPS[imageType];
  const { target, bundleInputs, upload } = publishing;
  return {
    bundle: spec(
      ids.bundle,
      'bundle-image',
      [ids.extract],
      ['bundle'],
      bundleParams(recipe, imageType, target),
      bundleInputs,
    ),
    upload: spec(ids.upload, 'upload-bundle', [ids.bundle], ['publish'], upload),
    register: spec(
      ids.register,
      'register-image',
      [ids.upload],
      ['publish'],
      registerParams(recipe, imageType, target),
    ),
  };
}

/**
 * The machine image: its parts bundled right after extraction, the manifest once the kernel
 * and ramdisk ids are known, the upload, and the registration (after the boot test, if any:
 * a machine image that does not boot is not published).
 */
export function machineImageSteps(
  recipe: Recipe,
  publishing: Publishing,
  bootTest: BuiltinStepSpec | undefined,
): {
  readonly bundle: BuiltinStepSpec;
  readonly manifest: BuiltinStepSpec;
  readonly upload: BuiltinStepSpec;
  readonly register: BuiltinStepSpec;
} {
  const { target, bundleInputs, upload } = publishing;
  return {
    bundle: spec(
      STEP.bundleMachine,
      'bundle-parts',
      [STEP.extractRootfs],
      ['bundle'],
      bundleParams(recipe, 'machine', target),
      bundleInputs,
    ),
    manifest: spec(
      STEP.manifestMachine,
      'bundle-manifest',
      [STEP.bundleMachine, STEP.registerKernel, STEP.registerRamdisk],
      ['bundle'],
      manifestParams(recipe, target),
      bundleInputs,
    ),
    upload: spec(STEP.uploadMachine, 'upload-bundle', [STEP.manifestMachine], ['publish'], upload),
    register: spec(
      STEP.registerMachine,
      'register-image',
      bootTest ? [STEP.uploadMachine, bootTest.id] : [STEP.uploadMachine],
      ['publish'],
      registerParams(recipe, 'machine', target),
    ),
  };
}

/** boot-test: boots what the extract steps produced, before anything is registered. */
export function bootTestStep(recipe: Recipe): BuiltinStepSpec {
  return spec(
    STEP.bootTest,
    'boot-test',
    [STEP.extractKernel, STEP.extractRamdisk, STEP.extractRootfs],
    ['test'],
    bootTestParams(recipe.test),
  );
}

/** Adds an edge for every ${steps.<id>.<output>} to the steps that read the value holding it. */
function withReferenceEdges(
  recipe: Recipe,
  steps: readonly BuiltinStepSpec[],
): GraphInput<BuiltinStepSpec> {
  const edgeLocations = new Map<string, Location>();
  const patched = steps.map((step) => {
    const refs = recipe.stepRefs.filter((ref) => readsPath(step, ref));
    if (refs.length === 0) return step;
    const needs = [...step.needs];
    for (const ref of refs) {
      const target = ref.stepId as StepId;
      if (!needs.includes(target)) needs.push(target);
      edgeLocations.set(`${step.id}->${target}`, ref.location);
    }
    return { ...step, needs };
  });
  return {
    steps: patched,
    edgeLocations,
    locate: (step) => recipe.sourceMap.locate(step.section, { part: 'key' }),
  };
}

/** True when the step's params come from the recipe section holding the placeholder. */
function readsPath(step: BuiltinStepSpec, ref: LocatedStepReference): boolean {
  const top = ref.path[0];
  if (top === 'description') return step.kind === 'register-image';
  if (top === 'publish') return step.kind === 'register-image' || step.kind === 'upload-bundle';
  return step.section[0] === top;
}
