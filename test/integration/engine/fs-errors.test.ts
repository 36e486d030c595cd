// File-system trouble is the user's to fix, never "internal error": a read-only work
// directory (a read-only bind mount, since root ignores mode bits; EACCES as nobody) and
// a full one (a small tmpfs, filled up) end with exit 1 and a message naming the path; no
// 0-byte lock and no half-written state.json is left behind. Also: status tells a stale
// lock from a live one, a refused saved plan leaves no work directory, and an ISO
// download into a read-only or full cache says so. Mounts need root.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import {
  makeEngineRig,
  runFakeCli,
  startFakeCli,
  type EngineRig,
} from '../../helpers/engine-rig.js';
import { repoPath } from '../../helpers/paths.js';
import { quietTask } from '../../../src/core/task.js';
import { downloadIso } from '../../../src/steps/iso-download.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

const isRoot = process.getuid?.() === 0;
const mounted: string[] = [];

/** Mounts a tmpfs of `size` (e.g. '1m') at `dir`; unmounted after the test. */
function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounted.push(dir);
}

/** Makes `dir` read-only in place (a read-only bind mount of itself). */
function mountReadOnly(dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['--bind', dir, dir]);
  mounted.push(dir);
  execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
}

/** Writes a file until the file system is full. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeFileSync(filler, chunk, { flag: 'a' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  return filler;
}

afterEach(() => {
  while (mounted.length > 0) execFileSync('umount', [mounted.pop() ?? '']);
});

const noBug = (stderr: string): void => {
  expect(stderr).not.toContain('internal error');
  expect(stderr).not.toContain('report it');
};

const ok = (rig: EngineRig, ...args: string[]) => {
  const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
};

const waitFor = async (pred: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
};

(isRoot ? describe : describe.skip)('file-system errors (as root: mounts)', () => {
  test('a read-only work directory: exit 1 naming the path, for apply and plan --out', () => {
    const rig = makeEngineRig();
    const ro = join(rig.dir, 'ro');
    mountReadOnly(ro);
    const fresh = runFakeCli(rig, [
      'apply',
      rig.recipe,
      '--no-progress',
      '--work-dir',
      join(ro, 'w'),
    ]);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain(
      `error: cannot create the work directory ${join(ro, 'w')}: the file system is read-only (EROFS). Remount it read-write, or use another work directory (--work-dir DIR).`,
    );
    noBug(fresh.stderr);

    const plan = runFakeCli(rig, ['plan', rig.recipe, '--out', join(ro, 'plan.json')]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(
      `error: cannot write the plan to ${join(ro, 'plan.json')}: the file system is read-only (EROFS). Remount it read-write, or choose another --out FILE.`,
    );
    noBug(plan.stderr);

    // An existing work directory that became read-only: the lock cannot be written.
    ok(rig);
    mountReadOnly(rig.workDir);
    rig.editRecipe((t) => t.replace('size: 1G', 'size: 2G'));
    const locked = runFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain(
      `error: cannot write the lock file ${join(rig.workDir, 'lock')}: the file system is read-only (EROFS).`,
    );
    noBug(locked.stderr);
    // Reading still works.
    expect(runFakeCli(rig, ['status', rig.recipe]).code).toBe(0);
  });

  test('a work directory this user may not write (as nobody): EACCES, exit 1', () => {
    const rig = makeEngineRig();
    chmodSync(rig.dir, 0o755);
    const workDir = join(rig.dir, 'w');
    mkdirSync(workDir, { mode: 0o555 });
    // Root ignores mode bits: run the CLI as nobody (setpriv, util-linux).
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        repoPath('node_modules', 'tsx', 'dist', 'loader.mjs'),
        repoPath('test', 'helpers', 'fake-cli.ts'),
        'apply',
        rig.recipe,
        '--no-progress',
        '--work-dir',
        workDir,
      ],
      { cwd: rig.dir, env: { ...rig.env(), HOME: rig.dir }, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toContain(
      `error: cannot write the lock file ${join(workDir, 'lock')}: permission denied (EACCES). Check the owner and mode of ${join(workDir, 'lock')} and its directory (ls -ld), or use another work directory (--work-dir DIR).`,
    );
    expect(r.status).toBe(1);
    noBug(r.stderr);
    expect(readdirSync(workDir)).toEqual([]);
  });

  test('a full disk: the lock fails cleanly (no 0-byte lock), and the next apply works', () => {
    const rig = makeEngineRig();
    const disk = join(rig.dir, 'disk');
    mountTmpfs(disk, '512k');
    const workDir = join(disk, 'w');
    mkdirSync(workDir);
    const filler = fill(disk);
    const r = runFakeCli(rig, ['apply', rig.recipe, '--no-progress', '--work-dir', workDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: cannot write the lock file ${join(workDir, 'lock')}: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or use another work directory (--work-dir DIR).`,
    );
    noBug(r.stderr);
    expect(readdirSync(workDir)).toEqual([]); // no lock, no temp file
    rmSync(filler);
    ok(rig, '--work-dir', workDir);
    expect(existsSync(join(workDir, 'lock'))).toBe(false);
  });

  test('the disk fills up mid-run: exit 1 naming the path, state.json stays whole, resume works', async () => {
    const rig = makeEngineRig();
    const disk = join(rig.dir, 'disk');
    mountTmpfs(disk, '2m');
    const workDir = join(disk, 'w');
    rig.setConfig({ defaultDelayMs: 400 });
    const run = startFakeCli(rig, ['apply', rig.recipe, '--no-progress', '--work-dir', workDir]);
    await waitFor(() => rig.journal().some((e) => e.event === 'end' && e.id === 'customize'));
    const filler = fill(disk);
    const done = await run.done;
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(
      /cannot (write|record the step in) \/\S+: no space left on the device \(ENOSPC\)/,
    );
    expect(done.stderr).toContain(disk);
    noBug(done.stderr);
    // state.json is whole: every step in it finished, and it parses.
    const state = JSON.parse(readFileSync(join(workDir, 'state.json'), 'utf8')) as {
      steps: Record<string, unknown>;
    };
    const ended = rig
      .journal()
      .filter((e) => e.event === 'end')
      .map((e) => e.id);
    for (const id of Object.keys(state.steps)) expect(ended).toContain(id);
    expect(Object.keys(state.steps)).toContain('install-os');
    rmSync(filler);
    rig.setConfig({});
    const since = rig.journal().length;
    ok(rig, '--work-dir', workDir);
    const rerun = rig
      .journal()
      .slice(since)
      .filter((e) => e.event === 'start')
      .map((e) => e.id);
    for (const id of Object.keys(state.steps)) expect(rerun).not.toContain(id);
  });
});

(isRoot ? describe : describe.skip)('the cache directory on a bad disk (as root: mounts)', () => {
  test('an ISO download into a read-only or full cache names the cache and EMI_RECIPE_CACHE_DIR', async () => {
    const body = Buffer.alloc(1024 * 1024, 7);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${String(port)}/x.iso`;
    const sha256 = createHash('sha256').update(body).digest('hex');
    try {
      const dir = mkdtempSync(join(tmpdir(), 'emi-cache-'));
      const ro = join(dir, 'ro');
      mountReadOnly(ro);
      const readOnly = await downloadIso(quietTask(), {
        url,
        sha256,
        env: { EMI_RECIPE_CACHE_DIR: join(ro, 'cache') },
      });
      expect(readOnly.ok ? undefined : readOnly.error).toEqual({
        kind: 'fs',
        reason: 'io-error',
        code: 'EROFS',
        path: join(ro, 'cache', 'isos'),
        action: 'write the cache directory',
        place: 'cache-dir',
      });
      expect(readOnly.ok ? '' : describeStepFailure(readOnly.error)).toBe(
        `cannot write the cache directory ${join(ro, 'cache', 'isos')}: the file system is read-only (EROFS). Remount it read-write, or point EMI_RECIPE_CACHE_DIR at a writable directory. Finished steps are kept; run the same command again to resume.`,
      );
      const small = join(dir, 'small');
      mountTmpfs(small, '256k');
      const full = await downloadIso(quietTask(), {
        url,
        sha256,
        env: { EMI_RECIPE_CACHE_DIR: small },
      });
      expect(full.ok ? undefined : full.error).toMatchObject({
        kind: 'fs',
        code: 'ENOSPC',
        path: join(small, 'isos'),
        place: 'cache-dir',
      });
      expect(full.ok ? '' : describeStepFailure(full.error)).toBe(
        `downloading the ISO: cannot download ${url} into ${join(small, 'isos')}: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or point EMI_RECIPE_CACHE_DIR at a writable directory. Finished steps are kept; run the same command again to resume.`,
      );
      expect(readdirSync(join(small, 'isos'))).toEqual([]); // the .part file is gone
    } finally {
      server.close();
    }
  });
});

describe('lock and work directory state', () => {
  test('status checks the lock holder like apply: a dead or empty lock is stale', () => {
    const rig = makeEngineRig();
    ok(rig);
    const lock = join(rig.workDir, 'lock');
    writeFileSync(
      lock,
      JSON.stringify({ pid: 999999, startTime: '1', host: hostname(), command: 'x', since: 'y' }),
    );
    const text = runFakeCli(rig, ['status', rig.recipe]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      'A stale lock was left by pid 999999 (x, since y), which is no longer running; the next apply takes it over.',
    );
    expect(text.stdout).not.toContain('An apply holds the lock');
    const json = JSON.parse(runFakeCli(rig, ['status', '--json', rig.recipe]).stdout) as {
      running: boolean;
      lock: { state: string; holder: { pid: number } | null };
    };
    expect(json.running).toBe(false);
    expect(json.lock).toMatchObject({ state: 'stale', holder: { pid: 999999 } });

    // A 0-byte lock (an older version killed between create and write) blocks nothing.
    writeFileSync(lock, '');
    expect(runFakeCli(rig, ['status', rig.recipe]).stdout).toContain('is empty or unreadable');
    rig.editRecipe((t) => t.replace('size: 1G', 'size: 2G'));
    ok(rig);
    expect(existsSync(lock)).toBe(false);
  });

  test('status names a live holder', async () => {
    const rig = makeEngineRig();
    rig.setConfig({ defaultDelayMs: 300 });
    const run = startFakeCli(rig, ['apply', rig.recipe, '--no-progress']);
    await waitFor(() => rig.journal().length > 0);
    const status = runFakeCli(rig, ['status', rig.recipe]);
    expect(status.stdout).toContain(
      `An apply holds the lock: pid ${String(run.child.pid)} on ${hostname()}`,
    );
    run.child.kill('SIGINT');
    await run.done;
  });

  test('a refused saved plan leaves no work directory behind', () => {
    const rig = makeEngineRig();
    const planFile = join(rig.dir, 'plan.json');
    expect(runFakeCli(rig, ['plan', rig.recipe, '--out', planFile]).code).toBe(0);
    rig.editRecipe((t) => t.replace('size: 1G', 'size: 2G'));
    const r = runFakeCli(rig, ['apply', planFile, '--no-progress']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the recipe changed since the plan was made');
    expect(existsSync(join(rig.dir, '.emi-recipe'))).toBe(false);
  });

  test('a state file of another format version is refused, not discarded', () => {
    const rig = makeEngineRig();
    ok(rig);
    const path = join(rig.workDir, 'state.json');
    const before = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const newer = `${JSON.stringify({ ...before, formatVersion: 2 })}\n`;
    writeFileSync(path, newer);
    const since = rig.journal().length;
    for (const command of ['apply', 'plan', 'status']) {
      const r = runFakeCli(rig, [
        command,
        rig.recipe,
        ...(command === 'apply' ? ['--no-progress'] : []),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `error: ${path} has state format version 2; this emi-recipe reads version 1 only`,
      );
    }
    expect(rig.journal().length).toBe(since);
    expect(readFileSync(path, 'utf8')).toBe(newer);
  });
});
