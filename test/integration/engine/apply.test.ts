// The engine end to end with test-only step kinds, as a real CLI process: up to date
// after success, exactly the downstream of a change re-runs, failures block dependents
// and resume, locks, stale plans, parallelism, Ctrl-C.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  makeEngineRig,
  runFakeCli,
  startFakeCli,
  type EngineRig,
} from '../../helpers/engine-rig.js';

const ALL = [
  'create-disk',
  'install-os',
  'customize',
  'extract-kernel',
  'extract-ramdisk',
  'extract-rootfs',
  'bundle-kernel',
  'bundle-ramdisk',
  'bundle-machine',
  'boot-test',
  'upload-kernel',
  'upload-ramdisk',
  'register-kernel',
  'register-ramdisk',
  'manifest-machine',
  'upload-machine',
  'register-machine',
];
const started = (rig: EngineRig, since = 0) =>
  rig
    .journal()
    .slice(since)
    .filter((e) => e.event === 'start')
    .map((e) => e.id)
    .sort();
const applyOk = (rig: EngineRig, ...args: string[]) => {
  const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};
const waitFor = async (pred: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('apply with test-only steps', () => {
  test('runs everything once, then is up to date', () => {
    const rig = makeEngineRig();
    const first = applyOk(rig);
    expect(started(rig)).toEqual([...ALL].sort());
    expect(first.stdout).toMatch(/Apply finished: 17 ran, 0 up to date/);
    expect(first.stdout).toMatch(/Images: eki-[0-9a-f]{8} eri-[0-9a-f]{8} emi-[0-9a-f]{8}/);
    const before = rig.journal().length;
    const second = applyOk(rig);
    expect(second.stdout).toBe('Nothing to do: all 17 steps are up to date.\n');
    expect(rig.journal().length).toBe(before);
    const plan = runFakeCli(rig, ['plan', rig.recipe]);
    expect(plan.stdout).toContain('Plan: 0 to run, 17 up to date');
  });

  test('a customize change re-runs exactly customize and what follows, never the install', () => {
    const rig = makeEngineRig();
    applyOk(rig);
    rig.editRecipe((t) => t.replace('packages: [less]', 'packages: [less, curl]'));
    const plan = runFakeCli(rig, ['plan', rig.recipe]);
    expect(plan.stdout).toMatch(/= install-os\s+up to date/);
    expect(plan.stdout).toMatch(
      /~ customize\s+run\s+setting packages: \["less"\] → \["less","curl"\]/,
    );
    expect(plan.stdout).toMatch(
      /\^ extract-kernel\s+run\s+runs after customize \(upstream changed\)/,
    );
    expect(plan.stdout).toContain('Plan: 15 to run, 2 up to date; will register: eki, eri, emi');
    const since = rig.journal().length;
    applyOk(rig);
    expect(started(rig, since)).toEqual(
      ALL.filter((s) => !['create-disk', 'install-os'].includes(s)).sort(),
    );
  });

  test('a changed input file re-runs the step that reads it', () => {
    const rig = makeEngineRig();
    applyOk(rig);
    writeFileSync(join(rig.dir, 'motd.txt'), 'a new message\n');
    expect(runFakeCli(rig, ['plan', rig.recipe]).stdout).toMatch(
      /~ customize\s+run\s+input files\[0\] changed \(content\)/,
    );
  });

  test('a modified artifact re-runs its step; the same bytes leave dependents up to date', () => {
    const rig = makeEngineRig();
    applyOk(rig);
    const artifact = join(rig.workDir, 'artifacts', 'extract-rootfs', 'out.txt');
    const content = readFileSync(artifact);
    writeFileSync(artifact, content); // same bytes, new mtime
    expect(runFakeCli(rig, ['plan', rig.recipe]).stdout).toMatch(
      /~ extract-rootfs\s+run\s+artifact out \(out.txt\) was modified after it was made/,
    );
    const since = rig.journal().length;
    applyOk(rig);
    // It re-ran and produced identical output: early cutoff, nothing downstream re-ran.
    expect(started(rig, since)).toEqual(['extract-rootfs']);
  });

  test('a failure blocks its dependents, reports the command and log; a re-run resumes from it', () => {
    const rig = makeEngineRig();
    rig.setConfig({ fail: ['extract-kernel'] });
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress', '--on-failure', 'continue']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      '✗ step extract-kernel failed: extract-kernel failed as the test asked',
    );
    expect(r.stderr).toContain('  command: fake-extract-kernel extract-kernel');
    expect(r.stderr).toContain('  exit status: 3');
    expect(r.stderr).toContain('    last line');
    expect(r.stderr).toMatch(/full log: .*logs\/extract-kernel\.log/);
    expect(r.stdout).toMatch(
      /! bundle-kernel: blocked: needs extract-kernel, which did not finish/,
    );
    expect(readFileSync(join(rig.workDir, 'logs', 'extract-kernel.log'), 'utf8')).toContain(
      'fake extract-kernel running',
    );
    const doneFirst = started(rig);
    expect(doneFirst).toContain('register-ramdisk');
    rig.setConfig({});
    const since = rig.journal().length;
    applyOk(rig);
    expect(started(rig, since)).toEqual(
      [
        'extract-kernel',
        'bundle-kernel',
        'upload-kernel',
        'register-kernel',
        'boot-test',
        'manifest-machine',
        'upload-machine',
        'register-machine',
      ].sort(),
    );
  });

  test('--on-failure stop starts nothing new after a failure', () => {
    const rig = makeEngineRig();
    rig.setConfig({ fail: ['create-disk'] });
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(r.code).toBe(1);
    expect(started(rig)).toEqual(['create-disk']);
  });

  test('a second apply on the same work directory is refused with exit 3 and the holder', async () => {
    const rig = makeEngineRig();
    rig.setConfig({ defaultDelayMs: 400 });
    const first = startFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    await waitFor(() => rig.journal().length > 0);
    const second = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`is in use by another apply (pid ${String(first.child.pid)}`);
    const done = await first.done;
    expect(done.code).toBe(0);
  });

  test('a stale lock from a dead process is taken over', () => {
    const rig = makeEngineRig();
    applyOk(rig);
    writeFileSync(
      join(rig.workDir, 'lock'),
      JSON.stringify({ pid: 999999, startTime: '1', host: hostname(), command: 'x', since: 'y' }),
    );
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(r.code).toBe(0);
    expect(existsSync(join(rig.workDir, 'lock'))).toBe(false);
  });

  test('a saved plan is applied exactly; a stale one is refused', () => {
    const rig = makeEngineRig();
    const planFile = join(rig.dir, 'plan.json');
    expect(runFakeCli(rig, ['plan', rig.recipe, '--out', planFile]).code).toBe(0);
    const doc = JSON.parse(readFileSync(planFile, 'utf8')) as { summary: { run: number } };
    expect(doc.summary.run).toBe(17);
    const r = runFakeCli(rig, ['apply', planFile, '--no-progress']);
    expect(r.code).toBe(0);
    // The state changed since that plan: applying it again is refused.
    const again = runFakeCli(rig, ['apply', planFile, '--no-progress']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('the work directory changed since the plan was made');
    // A recipe change after planning is refused too.
    expect(runFakeCli(rig, ['plan', rig.recipe, '--out', planFile]).code).toBe(0);
    rig.editRecipe((t) => t.replace('size: 1G', 'size: 2G'));
    const stale = runFakeCli(rig, ['apply', planFile, '--no-progress']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('the recipe changed since the plan was made');
    expect(stale.stderr).toContain(`emi-recipe plan ${rig.recipe} --out ${planFile}`);
  });

  test('independent branches run in parallel', () => {
    const rig = makeEngineRig();
    // Each of the three waits until all three have started: with fewer than three running
    // at once the barrier times out and the apply fails.
    rig.setConfig({
      barrier: { ids: ['extract-kernel', 'extract-ramdisk', 'extract-rootfs'], timeoutMs: 20_000 },
    });
    applyOk(rig, '--jobs', '3');
    const times = (id: string) => {
      const events = rig.journal().filter((e) => e.id === id);
      return {
        start: events.find((e) => e.event === 'start')!.time,
        end: events.find((e) => e.event === 'end')!.time,
      };
    };
    const k = times('extract-kernel');
    const r = times('extract-ramdisk');
    const f = times('extract-rootfs');
    expect(r.start).toBeLessThanOrEqual(k.end);
    expect(f.start).toBeLessThanOrEqual(k.end);
    expect(f.start).toBeLessThanOrEqual(r.end);
  });

  test('Ctrl-C stops the running steps (exit 130) and the next apply resumes', async () => {
    const rig = makeEngineRig();
    rig.setConfig({ defaultDelayMs: 300 });
    const run = startFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    await waitFor(() => rig.journal().some((e) => e.event === 'end' && e.id === 'customize'));
    run.child.kill('SIGINT');
    const done = await run.done;
    expect(done.code).toBe(130);
    expect(done.stderr).toContain(
      'Interrupted. Finished steps are kept; run the same command again to resume.',
    );
    const state = JSON.parse(readFileSync(join(rig.workDir, 'state.json'), 'utf8')) as {
      steps: Record<string, unknown>;
    };
    const finished = rig
      .journal()
      .filter((e) => e.event === 'end')
      .map((e) => e.id);
    expect(Object.keys(state.steps).sort()).toEqual([...finished].sort());
    const since = rig.journal().length;
    applyOk(rig);
    const restarted = started(rig, since);
    for (const id of finished) expect(restarted).not.toContain(id);
    expect([...finished, ...restarted].sort()).toEqual([...ALL].sort());
  });
});
