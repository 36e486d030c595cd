// The default graph: a recipe turned into steps with their params, inputs and needs.
// Pure. The shape (shared/DESIGN.md), with the boot test gating the machine registration:
//
//   create-disk -> install-os -> customize -+-> extract-kernel -> bundle-kernel -> upload-kernel -> register-kernel --+
//                                           +-> extract-ramdisk -> bundle-ramdisk -> upload-ramdisk -> register-ramdisk +
//                                           +-> extract-rootfs -> bundle-machine (parts) ---------> manifest-machine <--+
//                                                      |                                                 |
//                                                      +--> [boot-test] --------------------+   upload-machine
//                                                                                           +-> register-machine
import type { Location } from '../core/diagnostic.js';
import type { LocatedStepReference } from '../recipe/parse.js';
import type { Recipe } from '../recipe/model.js';
import type { GraphInput } from './graph.js';
import type { StepId, StepInput, StepSpec } from './step.js';
import type {
  BuiltinKind,
  BuiltinStepSpec,
  BundleParams,
  PublishTargetParams,
  RegisterParams,
  StepParamsByKind,
  UploadParams,
} from './step-params.js';

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

/**
 * The steps for a recipe, plus what buildGraph needs to report problems at recipe
 * locations. `${steps.<id>.<output>}` placeholders add edges from the step that reads
 * them to the step named.
 */
export function defaultGraphInput(recipe: Recipe): GraphInput<BuiltinStepSpec> {
  const steps: BuiltinStepSpec[] = [];
  const add = (step: BuiltinStepSpec): void => {
    steps.push(step);
  };
  const arch = recipe.arch;

  add(
    spec(STEP.createDisk, 'create-disk', [], ['disk'], {
      sizeBytes: recipe.disk.sizeBytes,
      format: recipe.disk.format,
    }),
  );

  const install = recipe.install;
  if (install.kind === 'iso') {
    const inputs: StepInput[] = [];
    if (install.iso.path) inputs.push({ name: 'iso', path: install.iso.path.path });
    if (install.answerFile) inputs.push({ name: 'answer-file', path: install.answerFile.path });
    add(
      spec(
        STEP.install,
        'install-os',
        [STEP.createDisk],
        ['install'],
        {
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
      ),
    );
  } else {
    add(
      spec(STEP.install, 'install-os', [STEP.createDisk], ['install'], {
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
      }),
    );
  }

  const c = recipe.customize;
  add(
    spec(
      STEP.customize,
      'customize',
      [STEP.install],
      ['customize'],
      {
        packages: c.packages,
        users: c.users.map((u) => ({
          name: u.name,
          groups: u.groups,
          shell: u.shell,
          sudo: u.sudo,
          sshAuthorizedKeys: u.sshAuthorizedKeys,
          uid: u.uid ?? null,
          comment: u.comment ?? null,
        })),
        files: c.files.map((f) => ({
          path: f.path,
          content: f.content ?? null,
          mode: f.mode,
          owner: f.owner,
        })),
        remove: c.remove,
        rcLocal: c.rcLocal
          ? {
              metadataSshKey: c.rcLocal.metadataSshKey ?? null,
              modules: c.rcLocal.modules,
              lines: c.rcLocal.lines,
            }
          : null,
        commands: c.commands,
      },
      c.files.flatMap((f, i) => (f.source ? [{ name: `files[${i}]`, path: f.source.path }] : [])),
    ),
  );

  add(
    spec(STEP.extractKernel, 'extract-kernel', [STEP.customize], ['extract', 'kernel'], {
      kernel: recipe.extract.kernel,
    }),
  );
  add(
    spec(STEP.extractRamdisk, 'extract-ramdisk', [STEP.customize], ['extract', 'kernel'], {
      kernel: recipe.extract.kernel,
    }),
  );
  add(
    spec(STEP.extractRootfs, 'extract-rootfs', [STEP.customize], ['extract'], {
      sizeBytes: recipe.extract.rootfsSizeBytes,
      name: `${recipe.name}.img`,
    }),
  );

  const publish = recipe.publish;
  const target: PublishTargetParams = {
    cloud: publish.cloud,
    ec2Endpoint: publish.endpoints.ec2 ?? null,
    s3Endpoint: publish.endpoints.s3 ?? null,
    region: publish.region,
    accessKeyId: publish.credentials?.accessKey ?? null,
  };
  const bundleInputs: StepInput[] = [];
  if (recipe.bundle.cert) bundleInputs.push({ name: 'cert', path: recipe.bundle.cert.path });
  if (recipe.bundle.privateKey)
    bundleInputs.push({ name: 'private-key', path: recipe.bundle.privateKey.path, secret: true });
  if (recipe.bundle.cloudCert)
    bundleInputs.push({ name: 'cloud-cert', path: recipe.bundle.cloudCert.path });
  const bundle = (imageType: BundleParams['imageType'], prefix: string): BundleParams => ({
    imageType,
    arch,
    prefix,
    partSizeBytes: recipe.bundle.partSizeBytes,
    account: recipe.bundle.account ?? null,
    target,
  });
  const upload: UploadParams = {
    bucket: publish.bucket,
    prefix: publish.prefix,
    acl: publish.acl,
    target,
  };
  const register = (imageType: RegisterParams['imageType'], name: string): RegisterParams => ({
    imageType,
    name,
    description: publish.description ?? null,
    arch,
    public: publish.public,
    target,
  });
  // Eucalyptus also decides the type from the manifest name (vmlinuz*/initrd*): keep the prefixes telling.
  add(
    spec(
      STEP.bundleKernel,
      'bundle-image',
      [STEP.extractKernel],
      ['bundle'],
      bundle('kernel', `vmlinuz-${recipe.name}`),
      bundleInputs,
    ),
  );
  add(
    spec(
      STEP.bundleRamdisk,
      'bundle-image',
      [STEP.extractRamdisk],
      ['bundle'],
      bundle('ramdisk', `initrd-${recipe.name}`),
      bundleInputs,
    ),
  );
  add(
    spec(
      STEP.bundleMachine,
      'bundle-parts',
      [STEP.extractRootfs],
      ['bundle'],
      bundle('machine', `${recipe.name}.img`),
      bundleInputs,
    ),
  );
  add(spec(STEP.uploadKernel, 'upload-bundle', [STEP.bundleKernel], ['publish'], upload));
  add(spec(STEP.uploadRamdisk, 'upload-bundle', [STEP.bundleRamdisk], ['publish'], upload));
  add(
    spec(
      STEP.registerKernel,
      'register-image',
      [STEP.uploadKernel],
      ['publish'],
      register('kernel', publish.names.kernel),
    ),
  );
  add(
    spec(
      STEP.registerRamdisk,
      'register-image',
      [STEP.uploadRamdisk],
      ['publish'],
      register('ramdisk', publish.names.ramdisk),
    ),
  );
  const blockDeviceMapping = Object.entries(recipe.bundle.blockDeviceMapping).map(
    ([virtual, device]) => ({ virtual, device }),
  );
  add(
    spec(
      STEP.manifestMachine,
      'bundle-manifest',
      [STEP.bundleMachine, STEP.registerKernel, STEP.registerRamdisk],
      ['bundle'],
      { arch, blockDeviceMapping, target },
      bundleInputs,
    ),
  );
  add(spec(STEP.uploadMachine, 'upload-bundle', [STEP.manifestMachine], ['publish'], upload));
  const registerNeeds = [STEP.uploadMachine];
  if (recipe.test.boot) {
    add(
      spec(
        STEP.bootTest,
        'boot-test',
        [STEP.extractKernel, STEP.extractRamdisk, STEP.extractRootfs],
        ['test'],
        {
          user: recipe.test.user ?? 'root',
          commands: recipe.test.commands,
          timeoutMs: recipe.test.timeoutMs,
          memoryBytes: recipe.test.memoryBytes,
          cpus: recipe.test.cpus,
          accel: recipe.test.accel,
        },
      ),
    );
    // A machine image that does not boot is not published.
    registerNeeds.push(STEP.bootTest);
  }
  add(
    spec(
      STEP.registerMachine,
      'register-image',
      registerNeeds,
      ['publish'],
      register('machine', publish.names.machine),
    ),
  );

  const input = withReferenceEdges(recipe, steps);
  if (recipe.test.boot) {
    // This edge comes from `test.boot: true`: say so when it is part of a cycle.
    const edges = new Map(input.edgeLocations);
    edges.set(
      `${STEP.registerMachine}->${STEP.bootTest}`,
      recipe.sourceMap.locate(['test', 'boot']),
    );
    return { ...input, edgeLocations: edges };
  }
  return input;
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
function readsPath(step: StepSpec, ref: LocatedStepReference): boolean {
  const top = ref.path[0];
  if (top === 'description') return step.kind === 'register-image';
  if (top === 'publish') return step.kind === 'register-image' || step.kind === 'upload-bundle';
  return step.section[0] === top;
}
