// Step kinds are typed by their params: the graph builder's steps, the kinds and the
// registry's table agree on each kind's params at compile time. Each `@ts-expect-error`
// line is an assertion: were the typing loose again (a cast, `any`, params seen as
// plain JSON), the line would compile, the directive would be unused, and both
// `npm run typecheck` and ts-jest (which type-checks this file) would fail.
import { describe, expect, test } from '@jest/globals';
import { ok } from '../../../src/core/result.js';
import { bindBuiltin, bindKind } from '../../../src/plan/bind-kind.js';
import { spec } from '../../../src/plan/default-graph.js';
import type { HostFacts, StepId, StepKind } from '../../../src/plan/step.js';
import type {
  BootTestParams,
  BuiltinKinds,
  BuiltinStepKind,
  BuiltinStepSpec,
  CreateDiskParams,
  InstallParams,
} from '../../../src/plan/step-params.js';
import { BUILD_KINDS } from '../../../src/steps/build-kinds.js';
import { createDisk } from '../../../src/steps/create-disk.js';
import { customize } from '../../../src/steps/customize.js';
import { extractKernel } from '../../../src/steps/extract-kernel.js';
import { extractRamdisk } from '../../../src/steps/extract-ramdisk.js';
import { fakeKinds } from '../../helpers/fake-kinds.js';
import { coreShare } from '../../../src/core/core-share.js';

const id = (text: string): StepId => text as StepId;
const host: HostFacts = { accel: 'tcg', isRoot: false };
const diskStep = spec(id('create-disk'), 'create-disk', [], ['disk'], {
  sizeBytes: 2 ** 30,
  format: 'raw',
});
const kernelStep = spec(id('extract-kernel'), 'extract-kernel', [], ['extract'], {
  kernel: 'newest',
});
const ramdiskStep = spec(id('extract-ramdisk'), 'extract-ramdisk', [], ['extract'], {
  kernel: 'newest',
});
/** The real build kinds, fakes for the publishing ones (they need a cloud session). */
const table: BuiltinKinds = {
  ...fakeKinds({ journal: '/nonexistent/journal', registry: '/nonexistent/registry' }),
  ...BUILD_KINDS,
};

describe('the graph builder', () => {
  test('takes the params of the kind it names, and no others', () => {
    expect(diskStep.params.sizeBytes).toBe(2 ** 30);
    // @ts-expect-error a renamed param (sizeBytes -> size) is not create-disk's
    spec(id('create-disk'), 'create-disk', [], ['disk'], { size: 1, format: 'raw' });
    // @ts-expect-error a param is missing
    spec(id('create-disk'), 'create-disk', [], ['disk'], { format: 'raw' });
    // @ts-expect-error a param of the wrong type
    spec(id('create-disk'), 'create-disk', [], ['disk'], { sizeBytes: '1G', format: 'raw' });
    // @ts-expect-error another kind's params
    spec(id('extract-kernel'), 'extract-kernel', [], [], { sizeBytes: 1, format: 'raw' });
    // @ts-expect-error a kind that does not exist
    spec(id('coffee'), 'make-coffee', [], [], {});
  });

  test('makes steps whose kind tells their params apart', () => {
    const formatOf = (step: BuiltinStepSpec): string | undefined =>
      step.kind === 'create-disk' ? step.params.format : undefined;
    expect(formatOf(diskStep)).toBe('raw');
    expect(formatOf(kernelStep)).toBeUndefined();
    // @ts-expect-error without looking at `kind`, the params may be any kind's
    const _isRaw = (step: BuiltinStepSpec): boolean => step.params.format === 'raw';
    const install: InstallParams = {
      source: 'debootstrap',
      arch: 'x86_64',
      suite: 'bookworm',
      variant: 'minbase',
      components: ['main'],
      mirror: null,
      kernelPackage: 'linux-image-amd64',
      packages: [],
      locale: 'C.UTF-8',
      timezone: 'UTC',
      diskSizeBytes: 1,
      diskFormat: 'raw',
    };
    // @ts-expect-error a create-disk step with install-os params
    const _mixed: BuiltinStepSpec = { ...diskStep, params: install };
  });
});

describe('a step kind', () => {
  test('reads only its own params, in describe and in run', () => {
    const kind: StepKind<CreateDiskParams, 'create-disk'> = {
      kind: 'create-disk',
      tools: [],
      describe: (step) => ({
        // @ts-expect-error `size` is not a create-disk param
        summary: String(step.params.size),
        commands: [],
        effects: [],
        notes: [],
      }),
      run: (ctx) =>
        Promise.resolve(
          ok({
            artifacts: {},
            // @ts-expect-error `format` is a string, not a number
            values: { sizeBytes: ctx.step.params.sizeBytes, format: ctx.step.params.format * 2 },
          }),
        ),
    };
    expect(kind.kind).toBe('create-disk');
    const _volatile: StepKind<CreateDiskParams> = {
      ...createDisk,
      // @ts-expect-error a volatile param that create-disk does not have
      volatileParams: ['memoryBytes'],
    };
  });

  test('is registered under its own name only, and every kind is', () => {
    // @ts-expect-error the build kinds alone miss the publishing ones
    const _partial: BuiltinKinds = { ...BUILD_KINDS };
    // @ts-expect-error the same params as extract-kernel, but another kind
    const _swapped: BuiltinStepKind<'extract-kernel'> = extractRamdisk;
    // @ts-expect-error customize's params are not create-disk's
    const _wrong: BuiltinStepKind<'create-disk'> = customize;
    expect(table['extract-kernel']).toBe(extractKernel);
  });

  test('binds only to a step of its own kind', () => {
    expect(bindKind(createDisk, diskStep).describe(host).summary).toBe(
      'create an empty 1 GiB raw disk',
    );
    // @ts-expect-error customize cannot take a create-disk step
    bindKind(customize, diskStep);
    // @ts-expect-error an extract-kernel step has extract-ramdisk's params, not its kind
    bindKind(extractRamdisk, kernelStep);
  });
});

describe('bindBuiltin', () => {
  test("binds each step to the table's kind of the step's name", () => {
    const steps: readonly BuiltinStepSpec[] = [diskStep, kernelStep, ramdiskStep];
    expect(steps.map((step) => bindBuiltin(table, step).describe(host).summary)).toEqual([
      'create an empty 1 GiB raw disk',
      'copy the kernel of the newest installed kernel out of the image',
      'copy the initrd of the newest installed kernel out of the image',
    ]);
  });

  test('gives the kind its params with their placeholders filled in', async () => {
    const seen: BootTestParams[] = [];
    const kind: BuiltinStepKind<'boot-test'> = {
      kind: 'boot-test',
      tools: [],
      describe: () => ({ summary: '', commands: [], effects: [], notes: [] }),
      run: (ctx) => {
        seen.push(ctx.step.params);
        return Promise.resolve(ok({ artifacts: {}, values: {} }));
      },
    };
    const params: BootTestParams = {
      user: 'root',
      commands: ['test ${steps.register-kernel.imageId} = eki-1'],
      timeoutMs: 1,
      memoryBytes: 1,
      cpus: 1,
      accel: 'tcg',
    };
    const step = spec(id('boot-test'), 'boot-test', [], ['test'], params);
    const bound = bindBuiltin(table, step);
    expect(bound.resolve(() => ({ other: 'x' }))).toEqual({
      ok: false,
      error: { step: 'register-kernel', output: 'imageId', available: ['other'] },
    });
    const ready = bindKind(kind, step).resolve((need) =>
      need === 'register-kernel' ? { imageId: 'eki-1' } : undefined,
    );
    if (!ready.ok) throw new Error(`missing ${ready.error.output}`);
    const result = await ready.value.run({
      signal: new AbortController().signal,
      log: () => undefined,
      progress: () => undefined,
      workDir: '/w',
      outDir: '/w/out',
      needs: new Map(),
      secrets: new Map(),
      exec: () => Promise.reject(new Error('no tools here')),
      accel: () => Promise.resolve('tcg'),
      cores: coreShare(2),
    });
    expect(result.ok).toBe(true);
    expect(seen.map((p) => p.commands)).toEqual([['test eki-1 = eki-1']]);
    expect(step.params.commands).toEqual(['test ${steps.register-kernel.imageId} = eki-1']);
  });
});
