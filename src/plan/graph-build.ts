// The steps every graph shape starts with, and the step ids and builder they share: the
// paravirtual graph (default-graph.ts) and the hvm one (graph-hvm.ts) both import this,
// neither imports the other's module (no cycle). Pure.
import type { Recipe } from '../recipe/model.js';
import { createDiskParams, customizeParams, installParams } from './graph-params.js';
import type { StepId, StepInput } from './step.js';
import type { BuiltinKind, BuiltinStepSpec, StepParamsByKind } from './step-params.js';

const id = (text: string): StepId => text as StepId;

/** The ids of the default graph, for code that needs a particular step. */
export const STEP = {
  createDisk: id('create-disk'),
  install: id('install-os'),
  customize: id('customize'),
  extractKernel: id('extract-kernel'),
  extractRamdisk: id('extract-ramdisk'),
  extractRootfs: id('extract-rootfs'),
  bundleKernel: id('bundle-kernel'),
  bundleRamdisk: id('bundle-ramdisk'),
  bundleMachine: id('bundle-machine'),
  uploadKernel: id('upload-kernel'),
  uploadRamdisk: id('upload-ramdisk'),
  manifestMachine: id('manifest-machine'),
  uploadMachine: id('upload-machine'),
  registerKernel: id('register-kernel'),
  registerRamdisk: id('register-ramdisk'),
  registerMachine: id('register-machine'),
  bootTest: id('boot-test'),
} as const;

/** A step of kind K: its params must be that kind's (step-params.ts). Exported for the typing test. */
export function spec<K extends BuiltinKind>(
  stepId: StepId,
  kind: K,
  needs: readonly StepId[],
  section: readonly (string | number)[],
  params: StepParamsByKind[K],
  inputs: readonly StepInput[] = [],
): BuiltinStepSpec<K> {
  return { id: stepId, kind, needs, section, params, inputs };
}

/** create-disk, then install-os on it. */
export function diskAndInstallSteps(recipe: Recipe): BuiltinStepSpec[] {
  const install = installParams(recipe);
  return [
    spec(STEP.createDisk, 'create-disk', [], ['disk'], createDiskParams(recipe)),
    spec(
      STEP.install,
      'install-os',
      [STEP.createDisk],
      ['install'],
      install.params,
      install.inputs,
    ),
  ];
}

/** customize on the installed disk (an ISO install's network made independent of the NIC name). */
export function customizeStep(recipe: Recipe): BuiltinStepSpec {
  const customize = customizeParams(recipe.customize, recipe.install.kind === 'iso');
  return spec(
    STEP.customize,
    'customize',
    [STEP.install],
    ['customize'],
    customize.params,
    customize.inputs,
  );
}
