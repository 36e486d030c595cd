// SIGKILL of apply while debootstrap is installing packages (dpkg and package scripts
// running chrooted into the tree, /proc mounted in it): nothing of it lives on, nothing
// is mounted on the host, and the next apply starts clean. Real debootstrap (downloads
// are cached between runs in ~/.cache/emi-recipe/debootstrap).
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { mountsBelow } from '../../../src/tools/mount.js';
import { descendantsOf } from '../../helpers/process-tree.js';
import { repoPath } from '../../helpers/paths.js';
import { scrubbedEnv } from '../../helpers/run-cli.js';

const isRoot = process.getuid?.() === 0;
const hasDebootstrap = spawnSync('sh', ['-c', 'command -v debootstrap']).status === 0;
const maybe = isRoot && hasDebootstrap ? describe : describe.skip;
const TSX = repoPath('node_modules', 'tsx', 'dist', 'loader.mjs');
const CLI = repoPath('test', 'helpers', 'chroot-cli.ts');

const isAlive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
/** Processes chrooted into `dir` (their root directory is below it). */
function chrootedBelow(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readlinkSync(`/proc/${n}/root`).startsWith(`${dir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

maybe('debootstrap killed with apply', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emi-debootstrap-kill-'));
  afterAll(() => {
    for (const m of mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), dir))
      spawnSync('umount', ['--lazy', m]);
    spawnSync('rm', ['-rf', '--one-file-system', dir]);
  });

  test('SIGKILL while packages are being installed: no dpkg, no chroot, no mount left; clean finds nothing left to undo', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        journal: join(dir, 'journal.log'),
        registry: join(dir, 'registry.jsonl'),
        tinyDisk: '',
        realInstall: true,
      }),
    );
    const recipe = join(dir, 'kill.yaml');
    writeFileSync(
      recipe,
      [
        'name: kill',
        'disk: { size: 2G }',
        'install:',
        '  debootstrap: { suite: bookworm, variant: minbase, packages: [], kernelPackage: linux-image-cloud-amd64 }',
        '',
      ].join('\n'),
    );
    const env = scrubbedEnv({ EMI_FAKE_CONFIG: config });
    const child = spawn(
      process.execPath,
      ['--import', TSX, CLI, 'apply', recipe, '--no-progress'],
      {
        cwd: dir,
        env,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<void>((resolve) => {
      child.on('close', () => {
        resolve();
      });
    });
    const log = join(dir, '.emi-recipe', 'kill', 'logs', 'install-os.log');
    // "Unpacking the base system": dpkg runs chrooted into the tree, /proc is mounted there.
    await eventually(
      () => existsSync(log) && /I: Unpacking the base system/.test(readFileSync(log, 'utf8')),
      12 * 60_000,
    );
    expect(readFileSync(log, 'utf8')).toContain('I: Unpacking the base system');
    await new Promise((r) => setTimeout(r, 1500));
    const tree = descendantsOf(child.pid!);
    const work = join(dir, '.emi-recipe', 'kill');
    expect(chrootedBelow(work).length).toBeGreaterThan(0);
    expect(mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), dir)).toEqual([]);

    child.kill('SIGKILL');
    await exited;
    await eventually(() => tree.every((p) => !isAlive(p)) && chrootedBelow(work).length === 0);
    expect(tree.filter(isAlive)).toEqual([]);
    expect(chrootedBelow(work)).toEqual([]);
    expect(mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), dir)).toEqual([]);

    const clean = spawnSync(process.execPath, ['--import', TSX, CLI, 'clean', recipe], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(clean.stdout).not.toContain('Cleaned up after a killed run');
    expect(clean.status).toBe(0);
    expect(existsSync(work)).toBe(false);
  });
});
