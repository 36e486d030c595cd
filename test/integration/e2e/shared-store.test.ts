// Two runners on this machine sharing one store in the embedded cloud, with the real
// tools (debootstrap, chroot, QEMU, the bundler): runner A applies recipes/debian-minimal.yaml
// and is SIGKILLed once install-os has finished; runner B, with an empty work directory,
// applies it: install-os never runs again (its disk comes from the step cache), three
// images, no duplicate; a third empty work directory plans "all up to date" and its apply
// downloads nothing and finishes in seconds. The embedded cloud is served by this test
// process (as by a `cloud serve`), so every CLI is spawned without blocking it.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { repoPath } from '../../helpers/paths.js';
import { scrubbedEnv } from '../../helpers/run-cli.js';
import { killTree } from '../../helpers/process-tree.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-e2e-store-'));
const recipe = join(dir, 'debian-minimal.yaml');
copyFileSync(repoPath('recipes', 'debian-minimal.yaml'), recipe);
const STORE = 's3://emi-state/ci';

/** The built CLI, spawned (this process serves the cloud: it must not block). */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [repoPath('bin', 'emi-recipe.js'), ...args], {
    cwd: dir,
    env: scrubbedEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}
let cloud: TestCloud | undefined;
const runner = (name: string) => join(dir, name);
const storeArgs = (workDir: string) => ['--store', STORE, '--work-dir', workDir];

afterAll(async () => {
  await cloud?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe('debian-minimal on two runners sharing a store, end to end', () => {
  test('A killed after install-os; B restores it from the cache; C has nothing to do', async () => {
    cloud = await startTestCloud({ dataDir: join(dir, '.emi-recipe', 'local-cloud') });
    const child = spawn(
      process.execPath,
      [
        repoPath('bin', 'emi-recipe.js'),
        'apply',
        recipe,
        '--no-progress',
        '--lease',
        '20s',
        ...storeArgs(runner('a')),
      ],
      { cwd: dir, env: scrubbedEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    const exited = new Promise<void>((resolve) =>
      child.on('close', () => {
        resolve();
      }),
    );
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/✓ install-os \(/.test(out)) resolve();
      });
      child.on('close', () => {
        resolve();
      });
    });
    killTree(child.pid!);
    await exited;
    expect(out).toMatch(/✓ install-os \(/);
    expect(out).not.toContain('Apply finished');

    const t0 = Date.now();
    const b = await cli(
      'apply',
      recipe,
      '--no-progress',
      '--lock-timeout',
      '2m',
      ...storeArgs(runner('b')),
    );
    const bSeconds = (Date.now() - t0) / 1000;
    expect(b.stderr).not.toContain('error');
    expect(b.code).toBe(0);
    expect(b.stdout).not.toMatch(/install-os: debootstrap|✓ install-os \(/);
    expect(b.stdout).toMatch(/Images: eki-\S+ eri-\S+ emi-\S+/);
    // customize read install-os's disk: downloaded from the cache, verified.
    expect(existsSync(join(runner('b'), 'artifacts', 'install-os'))).toBe(true);
    const images = await cli(
      'images',
      '--json',
      '--data-dir',
      join(dir, '.emi-recipe', 'local-cloud'),
    );
    const mine = (JSON.parse(images.stdout) as { images: { name: string; imageType: string }[] })
      .images;
    expect(mine.map((i) => i.imageType).sort()).toEqual(['kernel', 'machine', 'ramdisk']);

    const plan = await cli('plan', recipe, '--json', ...storeArgs(runner('c')));
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout) as {
      summary: { run: number; download: { files: number } };
    };
    expect(doc.summary.run).toBe(0);
    expect(doc.summary.download.files).toBe(0);
    const t1 = Date.now();
    const c = await cli('apply', recipe, '--no-progress', ...storeArgs(runner('c')));
    const cSeconds = (Date.now() - t1) / 1000;
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('Nothing to do');
    expect(existsSync(join(runner('c'), 'artifacts', 'install-os'))).toBe(false);
    expect(cSeconds).toBeLessThan(15);
    process.stderr.write(
      `shared-store e2e: B ${bSeconds.toFixed(1)} s, C ${cSeconds.toFixed(1)} s\n`,
    );
  });
});
