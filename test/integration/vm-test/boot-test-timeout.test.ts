// The boot test with a guest that never comes up: the host's kernel and initrd with an
// empty root file system (the initramfs finds no /sbin/init and waits). It must stop at
// its timeout with a clear message, keep the console log, and leave no QEMU behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { bootTest } from '../../../src/steps/boot-test.js';
import type { StepFailure, StepId } from '../../../src/plan/step.js';
import { StepHarness } from '../../helpers/step-harness.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

/** The output lines a guest failure carries (none for other kinds). */
const tailOf = (f: StepFailure): readonly string[] =>
  f.kind === 'guest' ? (f.outputTail ?? []) : [];

const boot = readdirSync('/boot');
const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
const initrd = boot.find((f) => f.startsWith('initrd.img-'));

describe('boot-test', () => {
  (kernel && initrd ? test : test.skip)(
    'a guest that never accepts SSH hits the timeout with a clear error',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'emi-boot-timeout-'));
      const rootfsDir = join(work, 'rootfs');
      execFileSync('mkdir', ['-p', rootfsDir]);
      execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', join(rootfsDir, 'empty.img'), '64M']);
      const harness = new StepHarness(work, 'tcg');
      harness.outputs.set('extract-kernel' as StepId, {
        artifacts: { kernel: kernel! },
        values: {},
        dir: '/boot',
      });
      harness.outputs.set('extract-ramdisk' as StepId, {
        artifacts: { ramdisk: initrd! },
        values: {},
        dir: '/boot',
      });
      harness.outputs.set('extract-rootfs' as StepId, {
        artifacts: { rootfs: 'empty.img' },
        values: {},
        dir: rootfsDir,
      });
      const started = Date.now();
      try {
        const result = await harness.run(bootTest, {
          id: 'boot-test' as StepId,
          kind: 'boot-test',
          needs: ['extract-kernel', 'extract-ramdisk', 'extract-rootfs'] as StepId[],
          section: ['test'],
          params: {
            user: 'debian',
            commands: ['true'],
            timeoutMs: 25_000,
            memoryBytes: 512 * 2 ** 20,
            cpus: 1,
            accel: 'tcg',
          },
          inputs: [],
        });
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.reason).toBe('boot-timeout');
        expect(describeStepFailure(result.error)).toContain(
          'did not accept an SSH login as debian within 25s',
        );
        expect(describeStepFailure(result.error)).toContain(
          'it never fetched its key from the metadata service',
        );
        // The console's last lines come with the failure (here: the initramfs looking for a root).
        expect(tailOf(result.error).join('\n')).toMatch(/Begin:|initramfs|Gave up|ALERT/);
        expect(Date.now() - started).toBeLessThan(90_000);
        expect(harness.logs.get('boot-test')?.join('\n')).toContain('accelerator: TCG');
        // The snapshot disk was never written: the root file system is unchanged.
        expect(existsSync(join(rootfsDir, 'empty.img'))).toBe(true);
        const qemu = execFileSync('ps', ['-eo', 'args'])
          .toString()
          .split('\n')
          .filter((l) => l.includes('qemu-system') && l.includes(rootfsDir));
        expect(qemu).toEqual([]);
      } finally {
        // Its 4 MiB work directory (the empty root file system) is not left in /tmp.
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
});
