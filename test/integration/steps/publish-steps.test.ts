// The bundle, upload and register step kinds against the embedded local cloud (real SDK
// over HTTP), with small stand-in images: the eki/eri/emi wiring, re-use after a crash,
// replacement of an earlier build, a renamed image, and a name that belongs to someone else.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { buildGraph } from '../../../src/plan/graph.js';
import type { StepId } from '../../../src/plan/step.js';
import type {
  BuiltinKind,
  BuiltinStepKind,
  StepParamsByKind,
} from '../../../src/plan/step-params.js';
import { CloudSession } from '../../../src/steps/cloud-session.js';
import { stepKindOptions } from '../../../src/cli/step-kind-options.js';
import { bundleImageKind } from '../../../src/steps/bundle-boot-image.js';
import { bundlePartsKind } from '../../../src/steps/bundle-parts.js';
import { bundleManifestKind } from '../../../src/steps/bundle-manifest.js';
import { uploadBundleKind } from '../../../src/steps/upload-bundle.js';
import { registerImageKind } from '../../../src/steps/register-image.js';
import { describeImages } from '../../../src/cloud/ec2-register.js';
import { StepHarness, stepOf } from '../../helpers/step-harness.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-publish-steps-'));
const recipeText = (machineName: string) => `name: pubtest
disk: { size: 1G }
install: { debootstrap: { suite: bookworm } }
publish: { cloud: local, bucket: pubtest, names: { machine: ${machineName} } }
`;

function graphFor(machineName: string) {
  const loaded = loadRecipeText(join(dir, 'pubtest.yaml'), recipeText(machineName), {
    env: {},
    strictInputs: false,
  });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  const graph = buildGraph(defaultGraphInput(loaded.recipe)).graph!;
  return { recipe: loaded.recipe, specs: new Map(graph.steps.map((s) => [s.id, s])) };
}

describe('publish step kinds on the local cloud', () => {
  const { recipe, specs } = graphFor('pubtest');
  const session = new CloudSession(stepKindOptions(recipe).publish, {});
  const kinds = {
    bundleImage: bundleImageKind(session),
    bundleParts: bundlePartsKind(session),
    bundleManifest: bundleManifestKind(session),
    upload: uploadBundleKind(session),
    register: registerImageKind(session),
  };
  const harness = new StepHarness(join(dir, 'work'), 'tcg');
  const images = async () => {
    const c = await session.connection(new AbortController().signal);
    if (!c.ok) throw new Error(describeStepFailure(c.error));
    const r = await describeImages({
      registry: c.value.registry,
      owners: ['self'],
      signal: new AbortController().signal,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.value.filter((i) => i.state === 'available');
  };
  const run = async <K extends BuiltinKind>(
    kind: BuiltinStepKind<K>,
    id: string,
    params?: StepParamsByKind[K],
  ) => {
    const step = stepOf(specs, id, kind.kind);
    const r = await harness.run(kind, params === undefined ? step : { ...step, params });
    if (!r.ok) throw new Error(`${id}: ${describeStepFailure(r.error)}`);
    return r.value;
  };

  beforeAll(() => {
    // Stand-ins for the extracted files: the bundler does not care what the bytes are.
    const extracted = join(dir, 'extracted');
    mkdirSync(extracted);
    writeFileSync(join(extracted, 'vmlinuz-6.1.0-test'), randomBytes(300_000));
    writeFileSync(join(extracted, 'initrd.img-6.1.0-test'), randomBytes(200_000));
    writeFileSync(
      join(extracted, 'pubtest.img'),
      Buffer.concat([randomBytes(100_000), Buffer.alloc(3_000_000)]),
    );
    harness.outputs.set('extract-kernel' as StepId, {
      artifacts: { kernel: 'vmlinuz-6.1.0-test' },
      values: {},
      dir: extracted,
    });
    harness.outputs.set('extract-ramdisk' as StepId, {
      artifacts: { ramdisk: 'initrd.img-6.1.0-test' },
      values: {},
      dir: extracted,
    });
    harness.outputs.set('extract-rootfs' as StepId, {
      artifacts: { rootfs: 'pubtest.img' },
      values: {},
      dir: extracted,
    });
    harness.outputs.set('boot-test' as StepId, { artifacts: {}, values: {}, dir: extracted });
  });
  afterAll(async () => {
    await session.close();
  });

  test('kernel, ramdisk and machine: the emi names the eki and eri', async () => {
    await run(kinds.bundleImage, 'bundle-kernel');
    await run(kinds.upload, 'upload-kernel');
    const eki = await run(kinds.register, 'register-kernel');
    await run(kinds.bundleImage, 'bundle-ramdisk');
    await run(kinds.upload, 'upload-ramdisk');
    const eri = await run(kinds.register, 'register-ramdisk');
    await run(kinds.bundleParts, 'bundle-machine');
    const manifest = await run(kinds.bundleManifest, 'manifest-machine');
    expect(manifest.values).toMatchObject({
      kernelId: eki.values.imageId,
      ramdiskId: eri.values.imageId,
    });
    await run(kinds.upload, 'upload-machine');
    const emi = await run(kinds.register, 'register-machine');
    expect(eki.values.imageId).toMatch(/^eki-[0-9a-f]{8}$/);
    expect(eri.values.imageId).toMatch(/^eri-[0-9a-f]{8}$/);
    expect(emi.values.imageId).toMatch(/^emi-[0-9a-f]{8}$/);
    const machine = (await images()).find((i) => i.imageId === emi.values.imageId);
    expect(machine).toMatchObject({
      kernelId: eki.values.imageId,
      ramdiskId: eri.values.imageId,
      name: 'pubtest',
      imageType: 'machine',
    });
    expect(machine?.imageLocation).toMatch(
      /^pubtest\/pubtest\/[0-9a-f]{12}\/pubtest\.img\.manifest\.xml$/,
    );
  });

  test('registering again (a crash before the state was written) re-uses the image', async () => {
    const before = await images();
    const again = await run(kinds.register, 'register-kernel');
    expect(again.values.imageId).toBe(
      harness.outputs.get('register-kernel' as StepId)?.values.imageId,
    );
    expect(await images()).toHaveLength(before.length);
  });

  test('a new build replaces the previous image of the same name and deletes its bundle', async () => {
    const old = harness.outputs.get('register-kernel' as StepId)?.values.imageId;
    await run(kinds.bundleImage, 'bundle-kernel');
    await run(kinds.upload, 'upload-kernel');
    const fresh = await run(kinds.register, 'register-kernel');
    expect(fresh.values.imageId).not.toBe(old);
    expect(fresh.values.replaced).toEqual([old]);
    const kernels = (await images()).filter((i) => i.name === 'pubtest-kernel');
    expect(kernels.map((i) => i.imageId)).toEqual([fresh.values.imageId]);
  });

  test('a renamed image is registered anew, the old name goes', async () => {
    // The kernel was replaced above: the machine manifest is rebuilt to name the new one.
    await run(kinds.bundleManifest, 'manifest-machine');
    await run(kinds.upload, 'upload-machine');
    await run(kinds.register, 'register-machine');
    const renamed = graphFor('pubtest-renamed');
    const r = await run(
      kinds.register,
      'register-machine',
      stepOf(renamed.specs, 'register-machine', 'register-image').params,
    );
    const machines = (await images()).filter((i) => i.imageType === 'machine');
    expect(machines.map((i) => i.name)).toEqual(['pubtest-renamed']);
    expect(machines[0]?.imageId).toBe(r.values.imageId);
  });

  test('a name used by an image this recipe did not make is refused, that image untouched', async () => {
    const c = await session.connection(new AbortController().signal);
    if (!c.ok) throw new Error(describeStepFailure(c.error));
    const signal = new AbortController().signal;
    const ramdiskBundle = harness.outputs.get('bundle-ramdisk' as StepId)!;
    const { uploadBundle } = await import('../../../src/cloud/s3-upload.js');
    const { registerImage } = await import('../../../src/cloud/ec2-register.js');
    const up = await uploadBundle({
      store: c.value.store,
      bucket: 'pubtest',
      prefix: 'someone-else/1',
      manifestPath: join(ramdiskBundle.dir, ramdiskBundle.artifacts.manifest!),
      signal,
    });
    if (!up.ok) throw new Error(JSON.stringify(up.error));
    const foreign = await registerImage({
      registry: c.value.registry,
      imageLocation: `pubtest/${up.value.manifestKey}`,
      name: 'taken-name',
      signal,
    });
    if (!foreign.ok) throw new Error(JSON.stringify(foreign.error));
    const ramdisk = stepOf(specs, 'register-ramdisk', 'register-image');
    const taken = await harness.run(kinds.register, {
      ...ramdisk,
      params: { ...ramdisk.params, name: 'taken-name' },
    });
    expect(taken.ok).toBe(false);
    if (taken.ok) return;
    expect(taken.error.reason).toBe('name-taken');
    expect(describeStepFailure(taken.error)).toBe(
      `the image name 'taken-name' is already used by ${foreign.value.imageId} (pubtest/${up.value.manifestKey}), which this recipe did not make: choose another name in publish.names, or deregister it.`,
    );
    expect((await images()).some((i) => i.imageId === foreign.value.imageId)).toBe(true);
  });

  test('--refresh: a bundle made for another local cloud certificate must be made again', async () => {
    const signal = new AbortController().signal;
    const bundled = harness.outputs.get('bundle-kernel' as StepId)!;
    expect(bundled.values.cloudCert).toMatch(/^[0-9a-f]{16}$/);
    expect(
      await kinds.bundleImage.verify?.(
        stepOf(specs, 'bundle-kernel', 'bundle-image'),
        bundled.values,
        signal,
      ),
    ).toBeUndefined();
    const other = { ...bundled.values, cloudCert: '0000000000000000' };
    expect(
      await kinds.bundleImage.verify?.(
        stepOf(specs, 'bundle-kernel', 'bundle-image'),
        other,
        signal,
      ),
    ).toBe(
      "the bundle was made for another local cloud certificate (the local cloud's data was re-created)",
    );
    const registered = harness.outputs.get('register-kernel' as StepId)!;
    expect(
      await kinds.register.verify?.(
        stepOf(specs, 'register-kernel', 'register-image'),
        registered.values,
        signal,
      ),
    ).toBeUndefined();
    expect(
      await kinds.register.verify?.(
        stepOf(specs, 'register-kernel', 'register-image'),
        { imageId: 'eki-00000000' },
        signal,
      ),
    ).toBe('eki-00000000 is no longer registered');
  });
});
