// An hvm recipe's publishing steps against the embedded local cloud (real SDK over HTTP),
// with a stand-in disk image: bundle-machine writes the manifest euca-bundle-image 3.4.1
// writes without --kernel/--ramdisk (no kernel_id or ramdisk_id), register-machine sends
// VirtualizationType=hvm and no kernel or ramdisk, and DescribeImages says hvm with no
// kernel id. No eki or eri is registered.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { buildGraph } from '../../../src/plan/graph.js';
import type { StepId } from '../../../src/plan/step.js';
import type { BuiltinKind, BuiltinStepKind } from '../../../src/plan/step-params.js';
import { CloudSession } from '../../../src/steps/cloud-session.js';
import { stepKindOptions } from '../../../src/cli/step-kind-options.js';
import { bundleImageKind } from '../../../src/steps/bundle-boot-image.js';
import { uploadBundleKind } from '../../../src/steps/upload-bundle.js';
import { registerImageKind } from '../../../src/steps/register-image.js';
import { describeImages } from '../../../src/cloud/ec2-register.js';
import { StepHarness, stepOf } from '../../helpers/step-harness.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-publish-hvm-'));
const loaded = loadRecipeText(
  join(dir, 'hvmtest.yaml'),
  `name: hvmtest
image: { virtualization: hvm }
disk: { size: 1G }
install: { debootstrap: { suite: bookworm } }
customize: { rcLocal: { metadataSshKey: { user: root } } }
publish: { cloud: local, bucket: hvmtest }
test: { boot: true }
`,
  { env: {}, strictInputs: false },
);
if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
const recipe = loaded.recipe;
const graph = buildGraph(defaultGraphInput(recipe)).graph!;
const specs = new Map(graph.steps.map((s) => [s.id, s]));

describe('hvm publishing on the local cloud', () => {
  const session = new CloudSession(stepKindOptions(recipe).publish, {});
  const harness = new StepHarness(join(dir, 'work'), 'tcg');
  const signal = new AbortController().signal;

  beforeAll(() => {
    const extracted = join(dir, 'extracted');
    mkdirSync(extracted);
    writeFileSync(
      join(extracted, 'hvmtest.img'),
      Buffer.concat([randomBytes(200_000), Buffer.alloc(2_000_000)]),
    );
    harness.outputs.set('extract-disk' as StepId, {
      artifacts: { image: 'hvmtest.img' },
      values: {},
      dir: extracted,
    });
    harness.outputs.set('boot-test' as StepId, { artifacts: {}, values: {}, dir: extracted });
  });
  afterAll(async () => {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the graph has no kernel or ramdisk steps', () => {
    expect(graph.steps.map((s) => s.id)).toEqual([
      'create-disk',
      'install-os',
      'customize',
      'make-bootable',
      'extract-disk',
      'bundle-machine',
      'boot-test',
      'upload-machine',
      'register-machine',
    ]);
  });

  test('bundle, upload and register one hvm emi: no kernel id, virtualization type hvm', async () => {
    const run = async <K extends BuiltinKind>(id: string, kind: BuiltinStepKind<K>) => {
      const r = await harness.run(kind, stepOf(specs, id, kind.kind));
      if (!r.ok) throw new Error(`${id}: ${describeStepFailure(r.error)}`);
      return r.value;
    };
    const bundle = await run('bundle-machine', bundleImageKind(session));
    const manifest = readFileSync(join(bundle.dir, bundle.artifacts.manifest!), 'utf8');
    // As euca-bundle-image 3.4.1 without --kernel/--ramdisk (the golden tiny-exact-multiple
    // case): machine_configuration holds the architecture (and a -B mapping), no ids.
    expect(manifest).toContain('<image><name>hvmtest.img</name>');
    expect(manifest).toContain('<type>machine</type>');
    expect(manifest).not.toContain('kernel_id');
    expect(manifest).not.toContain('ramdisk_id');
    await run('upload-machine', uploadBundleKind(session));
    const registered = await run('register-machine', registerImageKind(session));
    expect(registered.values.imageId).toMatch(/^emi-[0-9a-f]{8}$/);
    const c = await session.connection(signal);
    if (!c.ok) throw new Error(describeStepFailure(c.error));
    const all = await describeImages({ registry: c.value.registry, owners: ['self'], signal });
    if (!all.ok) throw new Error(JSON.stringify(all.error));
    expect(all.value).toHaveLength(1);
    expect(all.value[0]).toMatchObject({
      imageId: registered.values.imageId,
      imageType: 'machine',
      virtualizationType: 'hvm',
      name: 'hvmtest',
      // No ami mapping in the manifest: the whole disk, as Eucalyptus names it for hvm.
      rootDeviceType: 'instance-store',
      rootDeviceName: '/dev/sda',
    });
    expect(all.value[0]?.kernelId).toBeUndefined();
    expect(all.value[0]?.ramdiskId).toBeUndefined();
    const filtered = await describeImages({
      registry: c.value.registry,
      filters: { 'virtualization-type': ['hvm'] },
      signal,
    });
    expect(filtered.ok && filtered.value.map((i) => i.imageId)).toEqual([
      registered.values.imageId,
    ]);
  });
});
