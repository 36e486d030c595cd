// The whole product, as a user runs it: recipes/debian-minimal.yaml applied from nothing
// with the real tools (debootstrap, chroot, e2fsprogs, QEMU under TCG, the bundler, the
// embedded cloud over HTTP), the boot test logging in with the metadata key; then a no-op
// apply, a one-package change, and a SIGKILL of the whole process tree in the middle of a
// fresh apply followed by a re-run that finishes without a duplicate image.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { repoPath } from '../../helpers/paths.js';
import { runBuiltCli, scrubbedEnv } from '../../helpers/run-cli.js';
import { killTree } from '../../helpers/process-tree.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-e2e-'));
const recipe = join(dir, 'debian-minimal.yaml');
copyFileSync(repoPath('recipes', 'debian-minimal.yaml'), recipe);
const cli = (...args: string[]) => runBuiltCli(args, { cwd: dir, timeoutMs: 15 * 60_000 });

interface Image {
  imageId: string;
  name: string;
  imageType: string;
  state: string;
  kernelId?: string;
  ramdiskId?: string;
}
function images(): Image[] {
  const r = cli('images', '--json', '--data-dir', join(dir, '.emi-recipe', 'local-cloud'));
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { images: Image[] }).images;
}
const ranSteps = (stdout: string) => [...stdout.matchAll(/✓ ([a-z-]+) \(/g)].map((m) => m[1]);
const skippedSteps = (stdout: string) =>
  [...stdout.matchAll(/= ([a-z-]+): up to date/g)].map((m) => m[1]);

describe('debian-minimal, end to end', () => {
  // Disks, root file systems and bundles (about 3 GiB): do not leave them in CI's /tmp.
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  let ids: { kernel: string; ramdisk: string; machine: string };

  test('from nothing: eki, eri and an emi naming both are registered, and the boot test logs in with the metadata key', () => {
    const r = cli('apply', recipe, '--no-progress');
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const line = /Images: (eki-[0-9a-f]{8}) (eri-[0-9a-f]{8}) (emi-[0-9a-f]{8})/.exec(r.stdout);
    expect(line).not.toBeNull();
    ids = { kernel: line![1]!, ramdisk: line![2]!, machine: line![3]! };
    expect(ranSteps(r.stdout)).toHaveLength(17);
    const status = JSON.parse(cli('status', '--json', recipe).stdout) as {
      images: Record<string, string>;
    };
    expect(status.images).toEqual(ids);
    const machine = images().find((i) => i.imageId === ids.machine);
    expect(machine).toMatchObject({
      imageType: 'machine',
      state: 'available',
      kernelId: ids.kernel,
      ramdiskId: ids.ramdisk,
      name: 'debian-minimal',
    });
    const bootLog = readFileSync(
      join(dir, '.emi-recipe', 'debian-minimal', 'logs', 'boot-test.log'),
      'utf8',
    );
    expect(bootLog).toContain('metadata: GET /latest/meta-data/public-keys/0/openssh-key -> 200');
    expect(bootLog).toMatch(/logged in as debian after .* with the key from the metadata service/);
    const console = readFileSync(
      join(dir, '.emi-recipe', 'debian-minimal', 'artifacts', 'boot-test', 'console.log'),
      'utf8',
    );
    expect(console).toContain('emi-recipe: installed SSH key for debian');
  });

  test('a second apply does nothing', () => {
    const r = cli('apply', recipe, '--no-progress');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Nothing to do: all 17 steps are up to date.\n');
  });

  test('a one-package change re-runs customize and what follows, never the install', () => {
    writeFileSync(
      recipe,
      readFileSync(recipe, 'utf8').replace('packages: [less]', 'packages: [less, nano]'),
    );
    const plan = cli('plan', recipe);
    expect(plan.stdout).toMatch(/= install-os\s+up to date/);
    expect(plan.stdout).toMatch(
      /~ customize\s+run\s+setting packages: \["less"\] → \["less","nano"\]/,
    );
    const r = cli('apply', recipe, '--no-progress');
    expect(r.code).toBe(0);
    expect(skippedSteps(r.stdout)).toEqual(expect.arrayContaining(['create-disk', 'install-os']));
    expect(ranSteps(r.stdout)).toEqual(
      expect.arrayContaining(['customize', 'extract-rootfs', 'boot-test', 'register-machine']),
    );
    expect(ranSteps(r.stdout)).not.toContain('install-os');
    // The new emi replaced the old one; nano is in the image the boot test logged into.
    const machines = images().filter((i) => i.name === 'debian-minimal');
    expect(machines).toHaveLength(1);
    expect(machines[0]?.imageId).not.toBe(ids.machine);
  });

  test('SIGKILL of the whole process tree in the middle of a fresh apply; the re-run finishes with no duplicate image', async () => {
    const killRecipe = join(dir, 'debian-kill.yaml');
    writeFileSync(
      killRecipe,
      readFileSync(recipe, 'utf8').replace('name: debian-minimal', 'name: debian-kill'),
    );
    const child = spawn(
      process.execPath,
      [repoPath('bin', 'emi-recipe.js'), 'apply', killRecipe, '--no-progress'],
      {
        cwd: dir,
        env: scrubbedEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
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
        // While the kernel is being registered, the machine image is being bundled and booted.
        if (out.includes('▸ register-kernel')) resolve();
      });
      child.on('close', () => {
        resolve();
      });
    });
    const killed = killTree(child.pid!);
    await exited;
    // Nothing of the killed tree is left running (a QEMU or a tool of a step).
    const alive = killed.filter((pid) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    expect(out).not.toContain('Apply finished');
    const r = cli('apply', killRecipe, '--no-progress');
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const mine = images().filter((i) => i.name.startsWith('debian-kill'));
    expect(mine.map((i) => i.imageType).sort()).toEqual(['kernel', 'machine', 'ramdisk']);
    const status = JSON.parse(cli('status', '--json', killRecipe).stdout) as {
      images: Record<string, string>;
    };
    expect(mine.map((i) => i.imageId).sort()).toEqual(Object.values(status.images).sort());
  });
});
