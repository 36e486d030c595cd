// A step that throws, as a real CLI process: a bug (a TypeError) is an internal error
// (exit 70, "please report"), a full disk (ENOSPC) a step failure naming the path
// (exit 1). Either way the step is marked failed, its dependents blocked, finished steps
// are kept in a state.json that still reads, and a re-run resumes from the failed step.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { makeEngineRig, runFakeCli, type EngineRig } from '../../helpers/engine-rig.js';

function stateSteps(rig: EngineRig): string[] {
  const state = JSON.parse(readFileSync(join(rig.workDir, 'state.json'), 'utf8')) as {
    steps: Record<string, unknown>;
  };
  return Object.keys(state.steps).sort();
}

describe('apply with a step that throws', () => {
  test('a TypeError: exit 70, internal error with the stack, step failed, state intact, resumable', () => {
    const rig = makeEngineRig();
    rig.setConfig({ throws: { customize: 'type-error' } });
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(
      /✗ step customize failed: internal error: Cannot read properties of undefined \(reading 'field'\)\. This is a bug in emi-recipe: please report it/,
    );
    expect(r.stderr).toContain('  stack:');
    expect(r.stderr).toContain('internal error: a step failed because of a bug in emi-recipe');
    expect(r.stderr).not.toContain('space');
    expect(r.stdout).toMatch(/✗ customize failed after .*: internal error/);
    expect(r.stdout).toMatch(/Apply failed: 2 ran, 0 up to date, 1 failed/);
    expect(stateSteps(rig)).toEqual(['create-disk', 'install-os']);
    expect(readFileSync(join(rig.workDir, 'logs', 'customize.log'), 'utf8')).toContain(
      '# internal error: TypeError:',
    );
    rig.setConfig({});
    const again = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Apply finished: \d+ ran, 2 up to date/);
  });

  test('ENOSPC: exit 1, a step failure naming the path and what to do, not a bug', () => {
    const rig = makeEngineRig();
    rig.setConfig({ throws: { 'extract-rootfs': 'enospc' } });
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(r.code).toBe(1);
    const path = join(rig.workDir, 'artifacts', 'extract-rootfs.partial', 'out.txt');
    expect(r.stderr).toContain(
      `✗ step extract-rootfs failed: cannot write ${path}: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or use another work directory (--work-dir DIR). Finished steps are kept; run the same command again to resume.`,
    );
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toContain('bug');
    expect(stateSteps(rig)).not.toContain('extract-rootfs');
    expect(stateSteps(rig)).toContain('customize');
  });
});
