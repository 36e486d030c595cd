// The boot test on real images that are broken in the two ways that matter: rc.local does
// not install the metadata key, and sshd does not start. debian-minimal is built through
// the extract steps (no boot test, no cloud), then each broken copy of its root file
// system is made with debugfs and booted with the exact kernel and ramdisk. Both must
// fail at the timeout with the console log kept; a good copy must pass (so the timeout
// is long enough for this machine and the failures are the images' fault).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { bootTest } from '../../../src/steps/boot-test.js';
import type { StepFailure, StepId } from '../../../src/plan/step.js';
import { repoPath } from '../../helpers/paths.js';
import { runBuiltCli } from '../../helpers/run-cli.js';
import { StepHarness } from '../../helpers/step-harness.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

/** The output lines a guest failure carries (none for other kinds). */
const tailOf = (f: StepFailure): readonly string[] =>
  f.kind === 'guest' ? (f.outputTail ?? []) : [];

const MINUTES = 60_000;
const TIMEOUT_MS = 2 * MINUTES;
const dir = mkdtempSync(join(tmpdir(), 'emi-failing-images-'));
let artifacts = '';
const file = (step: string) => join(artifacts, step, readdirSync(join(artifacts, step))[0] ?? '');

/** A copy of the built root file system with `edits` (debugfs -w requests) applied. */
function brokenCopy(name: string, edits: string[]): string {
  const copy = join(dir, `${name}.img`);
  execFileSync('cp', ['--sparse=always', file('extract-rootfs'), copy]);
  execFileSync('debugfs', ['-w', '-f', '-', copy], { input: `${edits.join('\n')}\n` });
  return copy;
}

async function boot(rootfs: string) {
  const harness = new StepHarness(join(dir, `work-${rootfs.split('/').pop() ?? ''}`), 'tcg');
  harness.keepFailed = true;
  harness.outputs.set('extract-kernel' as StepId, {
    artifacts: { kernel: file('extract-kernel').split('/').pop()! },
    values: {},
    dir: join(artifacts, 'extract-kernel'),
  });
  harness.outputs.set('extract-ramdisk' as StepId, {
    artifacts: { ramdisk: file('extract-ramdisk').split('/').pop()! },
    values: {},
    dir: join(artifacts, 'extract-ramdisk'),
  });
  harness.outputs.set('extract-rootfs' as StepId, {
    artifacts: { rootfs: rootfs.split('/').pop()! },
    values: {},
    dir,
  });
  const result = await harness.run(bootTest, {
    id: 'boot-test' as StepId,
    kind: 'boot-test',
    needs: ['extract-kernel', 'extract-ramdisk', 'extract-rootfs'] as StepId[],
    section: ['test'],
    params: {
      user: 'debian',
      commands: ['true'],
      timeoutMs: TIMEOUT_MS,
      memoryBytes: 512 * 2 ** 20,
      cpus: 1,
      accel: 'tcg',
    },
    inputs: [],
  });
  const kept = harness.failedOutDirs.get('boot-test');
  const consoleLog = kept ? join(kept, 'console.log') : '';
  return { result, consoleLog, log: harness.logs.get('boot-test')?.join('\n') ?? '' };
}

describe('boot-test on broken images', () => {
  beforeAll(() => {
    const recipe = join(dir, 'debian-minimal.yaml');
    const text = readFileSync(repoPath('recipes', 'debian-minimal.yaml'), 'utf8')
      .replace(/\npublish:\n {2}cloud: local\n/, '\n')
      .replace(/\ntest:\n[\s\S]*$/, '\n');
    writeFileSync(recipe, text);
    const r = runBuiltCli(['apply', recipe, '--no-progress'], {
      cwd: dir,
      timeoutMs: 20 * MINUTES,
    });
    expect(r.code).toBe(0);
    artifacts = join(dir, '.emi-recipe', 'debian-minimal', 'artifacts');
  }, 25 * MINUTES);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test(
    'the unbroken image passes (the timeout is long enough here)',
    async () => {
      const { result, log } = await boot(brokenCopy('good', []));
      expect(result.ok).toBe(true);
      expect(log).toMatch(/logged in as debian after/);
    },
    TIMEOUT_MS + 2 * MINUTES,
  );

  test(
    'an rc.local that does not install the key: boot-timeout, never fetched, console kept',
    async () => {
      writeFileSync(join(dir, 'rc.local'), '#!/bin/sh\nexit 0\n');
      const rootfs = brokenCopy('no-key', [
        'rm /etc/rc.local',
        `write ${join(dir, 'rc.local')} /etc/rc.local`,
        'sif /etc/rc.local mode 0100755',
      ]);
      const { result, consoleLog } = await boot(rootfs);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.reason).toBe('boot-timeout');
      expect(describeStepFailure(result.error)).toContain(
        'it never fetched its key from the metadata service',
      );
      expect(describeStepFailure(result.error)).toContain(consoleLog);
      expect(existsSync(consoleLog)).toBe(true);
      const text = readFileSync(consoleLog, 'utf8');
      expect(text).toMatch(/Linux version/);
      expect(text).not.toContain('installed SSH key');
    },
    TIMEOUT_MS + 2 * MINUTES,
  );

  test(
    'an sshd that does not start: boot-timeout although the key was fetched, console kept',
    async () => {
      const rootfs = brokenCopy('no-sshd', ['rm /usr/sbin/sshd']);
      const { result, consoleLog } = await boot(rootfs);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.reason).toBe('boot-timeout');
      expect(describeStepFailure(result.error)).toContain(
        'it did fetch its key from the metadata service',
      );
      expect(existsSync(consoleLog)).toBe(true);
      expect(readFileSync(consoleLog, 'utf8')).toContain(
        'emi-recipe: installed SSH key for debian',
      );
      expect(tailOf(result.error).length).toBeGreaterThan(0);
    },
    TIMEOUT_MS + 2 * MINUTES,
  );
});
