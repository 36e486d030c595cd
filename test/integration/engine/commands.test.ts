// status, graph and clean on a real work directory (test-only steps).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { makeEngineRig, runFakeCli } from '../../helpers/engine-rig.js';

describe('status, graph, clean', () => {
  test('status lists done steps and the image ids; graph draws the edges; clean removes or tidies', () => {
    const rig = makeEngineRig();
    const before = runFakeCli(rig, ['status', rig.recipe]);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain('0 of 17 steps done.');
    expect(runFakeCli(rig, ['apply', rig.recipe, '--no-progress']).code).toBe(0);

    const status = JSON.parse(runFakeCli(rig, ['status', '--json', rig.recipe]).stdout) as {
      images: Record<string, string>;
      steps: { id: string; state: string }[];
    };
    expect(status.images.kernel).toMatch(/^eki-[0-9a-f]{8}$/);
    expect(status.images.ramdisk).toMatch(/^eri-[0-9a-f]{8}$/);
    expect(status.images.machine).toMatch(/^emi-[0-9a-f]{8}$/);
    expect(status.steps.every((s) => s.state === 'done')).toBe(true);
    const text = runFakeCli(rig, ['status', rig.recipe]).stdout;
    expect(text).toMatch(/✓ register-machine\s+done .* imageId=emi-[0-9a-f]{8}/);
    expect(text).toContain(`17 of 17 steps done. Images: kernel ${status.images.kernel}`);

    const dot = runFakeCli(rig, ['graph', '--format', 'dot', rig.recipe]).stdout;
    expect(dot).toContain('"register-kernel" -> "manifest-machine";');
    expect(dot).toContain('"boot-test" -> "register-machine";');
    expect(runFakeCli(rig, ['graph', rig.recipe]).stdout).toMatch(
      /manifest-machine\s+bundle-manifest\s+<- bundle-machine, register-kernel, register-ramdisk/,
    );

    const tidy = runFakeCli(rig, ['clean', '--keep-artifacts', rig.recipe]);
    expect(tidy.code).toBe(0);
    expect(existsSync(join(rig.workDir, 'logs'))).toBe(false);
    expect(runFakeCli(rig, ['plan', rig.recipe]).stdout).toContain('Plan: 0 to run, 17 up to date');

    const clean = runFakeCli(rig, ['clean', rig.recipe]);
    expect(clean.code).toBe(0);
    expect(existsSync(rig.workDir)).toBe(false);
    expect(runFakeCli(rig, ['plan', rig.recipe]).stdout).toContain('Plan: 17 to run, 0 up to date');
  });

  test('--refresh finds images deleted outside emi-recipe and registers them again', () => {
    const rig = makeEngineRig();
    expect(runFakeCli(rig, ['apply', rig.recipe, '--no-progress']).code).toBe(0);
    writeFileSync(join(rig.dir, 'registry.jsonl'), '');
    // Without --refresh nothing asks the cloud: everything looks up to date.
    expect(runFakeCli(rig, ['plan', rig.recipe]).stdout).toContain('Plan: 0 to run, 17 up to date');
    const plan = runFakeCli(rig, ['plan', '--refresh', rig.recipe]).stdout;
    expect(plan).toMatch(/~ register-kernel\s+run\s+eki-[0-9a-f]{8} is no longer registered/);
    expect(plan).toContain('Plan: 5 to run, 12 up to date; will register: eki, eri, emi');
    expect(runFakeCli(rig, ['apply', '--refresh', rig.recipe, '--no-progress']).code).toBe(0);
    expect(rig.registry()).toHaveLength(3);
    expect(runFakeCli(rig, ['plan', '--refresh', rig.recipe]).stdout).toContain(
      'Plan: 0 to run, 17 up to date',
    );
  });
});
