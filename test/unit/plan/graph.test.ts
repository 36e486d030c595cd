// The default graph from recipes, and graph checks: unknown needs and cycles, with locations.
import { describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { buildGraph, downstreamOf } from '../../../src/plan/graph.js';
import type { StepId } from '../../../src/plan/step.js';
import { formatDiagnostics } from '../../../src/cli/output/diagnostic-printer.js';

const base = `name: graph-demo
disk: { size: 1G }
install: { debootstrap: { suite: bookworm } }
customize:
  users: [{ name: demo }]
  rcLocal: { metadataSshKey: { user: demo } }
`;

function graphOf(text: string) {
  const loaded = loadRecipeText('recipe.yaml', text, { env: {}, strictInputs: false });
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  return { ...buildGraph(defaultGraphInput(loaded.recipe)), text };
}

describe('default graph', () => {
  test('has the designed shape, machine parts bundled independently of kernel/ramdisk ids', () => {
    const { graph } = graphOf(base);
    const needs = Object.fromEntries(graph!.steps.map((s) => [s.id, [...s.needs]]));
    expect(graph!.steps.map((s) => s.id)).toEqual([
      'create-disk',
      'install-os',
      'customize',
      'extract-kernel',
      'extract-ramdisk',
      'extract-rootfs',
      'bundle-kernel',
      'bundle-ramdisk',
      'bundle-machine',
      'upload-kernel',
      'upload-ramdisk',
      'register-kernel',
      'register-ramdisk',
      'manifest-machine',
      'upload-machine',
      'register-machine',
    ]);
    expect(needs['bundle-machine']).toEqual(['extract-rootfs']);
    expect(needs['manifest-machine']).toEqual([
      'bundle-machine',
      'register-kernel',
      'register-ramdisk',
    ]);
    expect(needs['register-machine']).toEqual(['upload-machine']);
  });

  test('a boot test gates the machine registration', () => {
    const { graph } = graphOf(`${base}test: { boot: true }\n`);
    expect(graph!.byId.get('boot-test' as StepId)?.needs).toEqual([
      'extract-kernel',
      'extract-ramdisk',
      'extract-rootfs',
    ]);
    expect(graph!.byId.get('register-machine' as StepId)?.needs).toEqual([
      'upload-machine',
      'boot-test',
    ]);
  });

  test('install-os never reads customize settings (a customize change never re-runs the install)', () => {
    const a = graphOf(base).graph!.byId.get('install-os' as StepId);
    const b = graphOf(
      base.replace('users: [{ name: demo }]', 'users: [{ name: demo }]\n  packages: [curl]'),
    ).graph!.byId.get('install-os' as StepId);
    expect(b?.params).toEqual(a?.params);
  });

  test('downstream of customize is everything after it', () => {
    const { graph } = graphOf(base);
    expect([...downstreamOf(graph!, ['customize' as StepId])].sort()).toEqual(
      graph!.steps
        .map((s) => s.id)
        .filter((id) => !['create-disk', 'install-os', 'customize'].includes(id))
        .sort(),
    );
  });

  test('a ${steps…} placeholder adds an edge from the reader to the step named', () => {
    const { graph } = graphOf(`${base}  commands: ["echo \${steps.create-disk.digest}"]\n`);
    expect(graph!.byId.get('customize' as StepId)?.needs).toEqual(['install-os', 'create-disk']);
  });

  test('a placeholder naming an unknown step is reported at the placeholder', () => {
    const r = graphOf(`${base}  commands: ["echo \${steps.no-such-step.x}"]\n`);
    expect(r.graph).toBeUndefined();
    const printed = formatDiagnostics(r.diagnostics, {
      sources: new Map([['recipe.yaml', r.text]]),
      color: false,
    });
    expect(printed).toContain(
      "recipe.yaml:7:20: error: step 'customize' needs 'no-such-step', which does not exist",
    );
    expect(printed).toContain('  7 |   commands: ["echo ${steps.no-such-step.x}"]');
    expect(printed).toContain(
      `|                    ${'^'.repeat('${steps.no-such-step.x}'.length)}\n`,
    );
  });

  test('a cycle lists every edge with its own location, in a stable order', () => {
    const r = graphOf(
      `${base}test:\n  boot: true\n  commands: ["check \${steps.register-machine.imageId}"]\n`,
    );
    expect(r.graph).toBeUndefined();
    const printed = formatDiagnostics(r.diagnostics, {
      sources: new Map([['recipe.yaml', r.text]]),
      color: false,
    });
    expect(printed).toBe(
      [
        'recipe.yaml:9:21: error: dependency cycle: boot-test -> register-machine -> boot-test',
        '  9 |   commands: ["check ${steps.register-machine.imageId}"]',
        `    |                     ${'^'.repeat('${steps.register-machine.imageId}'.length)}`,
        "  recipe.yaml:9:21: note: 'boot-test' needs 'register-machine'",
        "  recipe.yaml:8:9: note: 'register-machine' needs 'boot-test'",
        '',
      ].join('\n'),
    );
  });
});
