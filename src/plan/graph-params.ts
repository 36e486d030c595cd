// The params and input files of the build steps (disk, install, customize, extract, boot
// test), each from its recipe section. Pure; default-graph.ts wires them into steps.
// Params hold no absolute path: a host file is a StepInput, named in the params' docs.
import type { Recipe, RecipeCustomize } from '../recipe/model.js';
import type { StepInput } from './step.js';
import type {
  BootTestParams,
  CreateDiskParams,
  CustomizeParams,
  ExtractRootfsParams,
  InstallParams,
} from './step-params.js';

/** A step's params with the host files it reads. */
export interface ParamsWithInputs<P> {
  readonly params: P;
  readonly inputs: readonly StepInput[];
}

/** create-disk: the recipe's `disk`. */
export function createDiskParams(recipe: Recipe): CreateDiskParams {
  return { sizeBytes: recipe.disk.sizeBytes, format: recipe.disk.format };
}

/**
 * install-os: from `install` (and `disk` for debootstrap, which partitions the disk itself).
 * An ISO install reads the inputs `iso` (unless downloaded) and `answer-file` (when given).
 */
export function installParams(recipe: Recipe): ParamsWithInputs<InstallParams> {
  const { arch, install } = recipe;
  if (install.kind === 'debootstrap') {
    return {
      params: {
        source: 'debootstrap',
        arch,
        suite: install.suite,
        variant: install.variant,
        components: install.components,
        mirror: install.mirror ?? null,
        kernelPackage: install.kernelPackage,
        packages: install.packages,
        locale: install.locale,
        timezone: install.timezone,
        diskSizeBytes: recipe.disk.sizeBytes,
        diskFormat: recipe.disk.format,
      },
      inputs: [],
    };
  }
  const inputs: StepInput[] = [];
  if (install.iso.path) inputs.push({ name: 'iso', path: install.iso.path.path });
  if (install.answerFile) inputs.push({ name: 'answer-file', path: install.answerFile.path });
  return {
    params: {
      source: 'iso',
      arch,
      sha256: install.iso.sha256 ?? null,
      url: install.iso.url ?? null,
      answers: install.answers,
      locale: install.locale,
      timezone: install.timezone,
      swapBytes: install.swapBytes,
      kernelArgs: install.kernelArgs,
      memoryBytes: install.vm.memoryBytes,
      cpus: install.vm.cpus,
      accel: install.vm.accel,
      timeoutMs: install.vm.timeoutMs,
    },
    inputs,
  };
}

/**
 * customize: the recipe's customisation as it is (the same guest shapes), except that a
 * file copied from the host becomes the input `files[<index>]` and drops its path, and an
 * install from an ISO gets a network configuration for any NIC name (`portableNetwork`).
 */
export function customizeParams(
  customize: RecipeCustomize,
  fromIso: boolean,
): ParamsWithInputs<CustomizeParams> {
  return {
    params: {
      ...customize,
      files: customize.files.map(({ source: _source, ...file }) => file),
      // An installer configured its own VM's NIC by name (guest/spec.ts portableNetwork).
      ...(fromIso ? { portableNetwork: true } : {}),
    },
    inputs: customize.files.flatMap((file, i) =>
      file.source ? [{ name: `files[${String(i)}]`, path: file.source.path }] : [],
    ),
  };
}

/** extract-rootfs: the image file is named after the recipe. */
export function extractRootfsParams(recipe: Recipe): ExtractRootfsParams {
  return { sizeBytes: recipe.extract.rootfsSizeBytes, name: `${recipe.name}.img` };
}

/** boot-test: `test`, logging in as root when no user is named. */
export function bootTestParams(test: Recipe['test']): BootTestParams {
  return {
    user: test.user ?? 'root',
    commands: test.commands,
    timeoutMs: test.timeoutMs,
    memoryBytes: test.memoryBytes,
    cpus: test.cpus,
    accel: test.accel,
  };
}
