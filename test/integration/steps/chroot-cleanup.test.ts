// A real chroot (customize as root) on a tiny root disk, killed and left behind in every
// way the hardening issue lists: SIGKILL of apply in the middle of customize leaves no
// process and no mount; a killed older run's mounts and chrooted processes are reaped by
// the next apply; clean unmounts before it deletes and deletes nothing while a mount stays;
// a process a package script leaves running does not outlive the step.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runClean } from '../../../src/cli/commands/clean.js';
import { memoryTerminal } from '../../../src/cli/output/terminal.js';
import { err } from '../../../src/core/result.js';
import { exec, type Exec } from '../../../src/tools/exec.js';
import { loopDevicesBelow, mountsBelow } from '../../../src/tools/mount.js';
import { descendantsOf } from '../../helpers/process-tree.js';
import { repoPath } from '../../helpers/paths.js';
import { scrubbedEnv } from '../../helpers/run-cli.js';
import { makeTinyTree, tinyRootDisk } from '../../helpers/tiny-root.js';

const isRoot = process.getuid?.() === 0;
const maybe = isRoot ? describe : describe.skip;
const TSX = repoPath('node_modules', 'tsx', 'dist', 'loader.mjs');
const CLI = repoPath('test', 'helpers', 'chroot-cli.ts');

const dir = mkdtempSync(join(tmpdir(), 'emi-chroot-kill-'));
const disk = join(dir, 'tiny.raw');
const configPath = join(dir, 'config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    journal: join(dir, 'journal.log'),
    registry: join(dir, 'registry.jsonl'),
    tinyDisk: disk,
  }),
);
const env = scrubbedEnv({ EMI_FAKE_CONFIG: configPath });

function writeRecipe(name: string, commands: readonly string[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'disk: { size: 1G }',
      'install:',
      '  debootstrap: { suite: bookworm }',
      'customize:',
      '  commands:',
      ...commands.map((c) => `    - ${JSON.stringify(c)}`),
      '',
    ].join('\n'),
  );
  return file;
}
const workDirOf = (name: string) => join(dir, '.emi-recipe', name);

function cli(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd: dir,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hostMountsBelow = (path: string) =>
  mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), path);
const loopsBelow = (path: string) =>
  loopDevicesBelow(
    execFileSync('losetup', ['--list', '--noheadings', '--raw', '--output', 'NAME,BACK-FILE'], {
      encoding: 'utf8',
    }),
    path,
  );
/** Pids (not zombies) whose command line is exactly `argv`. */
function processesRunning(argv: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (cmdline === `${argv.join('\0')}\0` && !/\) Z /.test(stat)) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
const isAlive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

maybe('chroot sessions leave the host clean', () => {
  beforeAll(() => {
    const tree = join(dir, 'tree');
    makeTinyTree(tree);
    tinyRootDisk(tree, disk);
  });
  afterAll(() => {
    // Best effort: the tests themselves check that nothing is left.
    for (const m of hostMountsBelow(dir)) spawnSync('umount', ['--lazy', m]);
    spawnSync('rm', ['-rf', '--one-file-system', dir]);
  });

  test('SIGKILL of apply in the middle of customize: no process of the run lives on and nothing stays mounted; clean removes the work dir', async () => {
    // A "daemon" in its own session (escapes process-group kills), then a long command.
    const recipe = writeRecipe('kill-customize', [
      'setsid sleep 4101 <&- >&- 2>&- &',
      'sleep 4102',
    ]);
    const workDir = workDirOf('kill-customize');
    const child = spawn(
      process.execPath,
      ['--import', TSX, CLI, 'apply', recipe, '--no-progress'],
      {
        cwd: dir,
        env,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<void>((resolve) =>
      child.on('close', () => {
        resolve();
      }),
    );
    const log = join(workDir, 'logs', 'customize.log');
    await eventually(
      () => existsSync(log) && readFileSync(log, 'utf8').includes('running: sleep 4102'),
      120_000,
    );
    await eventually(() => processesRunning(['sleep', '4102']).length > 0);
    const tree = descendantsOf(child.pid!);
    const sleepers = [
      ...processesRunning(['sleep', '4101']),
      ...processesRunning(['sleep', '4102']),
    ];
    expect(sleepers).toHaveLength(2);
    // The chroot's mounts live in a private namespace: the host never sees them.
    expect(hostMountsBelow(dir)).toEqual([]);

    child.kill('SIGKILL');
    await exited;
    await eventually(() => [...tree, ...sleepers].every((p) => !isAlive(p)));
    expect([...tree, ...sleepers].filter(isAlive)).toEqual([]);
    await eventually(() => loopsBelow(dir).length === 0);
    expect(hostMountsBelow(dir)).toEqual([]);
    expect(loopsBelow(dir)).toEqual([]);

    const clean = cli(['clean', recipe]);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(existsSync(workDir)).toBe(false);
  });

  test('a process started in the image that outlives the script is stopped, and the customized image is written back', () => {
    const recipe = writeRecipe('daemon', ['setsid sleep 4201 <&- >&- 2>&- &', 'echo done']);
    const r = cli(['apply', recipe, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(workDirOf('daemon'), 'logs', 'customize.log'), 'utf8')).toContain(
      'stopped 1 process(es) still running in the image',
    );
    expect(processesRunning(['sleep', '4201'])).toEqual([]);
    expect(hostMountsBelow(dir)).toEqual([]);
    expect(loopsBelow(dir)).toEqual([]);
  });

  /** What a killed older run left: the image loop-mounted, /dev bound into it, a chrooted process. */
  function leaveMess(workDir: string): { mnt: string; pid: number } {
    const mnt = join(workDir, 'tmp', 'customize-x', 'c-y', 'root');
    mkdirSync(mnt, { recursive: true });
    const image = join(workDir, 'tmp', 'customize-x', 'c-y', 'root.img');
    execFileSync('dd', ['if=' + disk, 'of=' + image, 'bs=1M', 'skip=1', 'status=none']);
    execFileSync('mount', ['-o', 'loop', image, mnt]);
    execFileSync('mount', ['-t', 'proc', 'proc', join(mnt, 'proc')]);
    execFileSync('mount', ['--bind', '/dev', join(mnt, 'dev')]);
    const sleeper = spawn('chroot', [mnt, 'sleep', '4301'], { detached: true, stdio: 'ignore' });
    sleeper.unref();
    return { mnt, pid: sleeper.pid! };
  }

  test('the next apply after a killed run stops its chrooted processes, unmounts its mounts and removes its scratch', async () => {
    const recipe = writeRecipe('leftovers', ['echo ok']);
    const workDir = workDirOf('leftovers');
    const { pid } = leaveMess(workDir);
    await eventually(() => processesRunning(['sleep', '4301']).length > 0);
    expect(hostMountsBelow(workDir)).toHaveLength(3);
    const r = cli(['apply', recipe, '--no-progress']);
    expect(r.stderr).toContain(
      'note: cleaned up after a killed run: stopped 1 process(es), unmounted 3 file system(s)',
    );
    expect(r.code).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect(hostMountsBelow(dir)).toEqual([]);
    expect(existsSync(join(workDir, 'tmp', 'customize-x'))).toBe(false);
    await eventually(() => loopsBelow(dir).length === 0);
    expect(loopsBelow(dir)).toEqual([]);
    expect(existsSync('/dev/null')).toBe(true);
  });

  test('clean unmounts first, and deletes nothing (state included) while a mount stays', async () => {
    const recipe = writeRecipe('clean-mounts', ['echo ok']);
    const workDir = workDirOf('clean-mounts');
    expect(cli(['apply', recipe, '--no-progress']).code).toBe(0);
    const { mnt } = leaveMess(workDir);
    // An umount that always fails: clean must stop before removing anything.
    const stuck: Exec = (file, args, options) =>
      file === 'umount'
        ? Promise.resolve(
            err({
              reason: 'exit-non-zero',
              exitCode: 32,
              file,
              command: `umount ${args.join(' ')}`,
              stderrTail: ['target is busy'],
              stdoutTail: [],
            }),
          )
        : exec(file, args, options);
    const terminal = memoryTerminal();
    const code = await runClean(recipe, { keepArtifacts: false }, { terminal, env, exec: stuck });
    expect(code).toBe(1);
    expect(terminal.stderr()).toContain('is still mounted below');
    expect(existsSync(join(workDir, 'state.json'))).toBe(true);
    expect(existsSync(join(mnt, 'bin'))).toBe(true);
    expect(existsSync('/dev/null')).toBe(true);

    const r = cli(['clean', recipe]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Cleaned up after a killed run: unmounted 3 file system(s)');
    expect(r.code).toBe(0);
    expect(existsSync(workDir)).toBe(false);
    expect(hostMountsBelow(dir)).toEqual([]);
    expect(existsSync('/dev/null')).toBe(true);
  });
});
