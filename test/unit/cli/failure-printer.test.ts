// The failure report people read: golden text of the whole report for one failure of
// each kind, built from facts (the sentence, the next step, the facts below it).
import { describe, expect, test } from '@jest/globals';
import { formatStepFailure } from '../../../src/cli/output/failure-printer.js';
import {
  CANCELED,
  fsStepFailure,
  internalStepFailure,
  stepFailure,
  toolStepFailure,
} from '../../../src/plan/step-failure.js';

const LOG = 'work/logs/customize.log';

describe('formatStepFailure', () => {
  test('a tool that exited non-zero: sentence with hint, command, exit status, stdout then stderr tail', () => {
    const failure = toolStepFailure(
      {
        reason: 'exit-non-zero',
        exitCode: 100,
        file: 'chroot',
        command: "chroot /mnt /bin/sh '/tmp/emi stage/customize.sh'",
        stdoutTail: ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'],
        stderrTail: ['E: Unable to locate package nginxx'],
      },
      'customizing in a chroot',
      'fix the package names in customize',
    );
    expect(formatStepFailure('customize', failure, LOG)).toBe(
      [
        '✗ step customize failed: customizing in a chroot: chroot exited with code 100. fix the package names in customize.',
        "  command: chroot /mnt /bin/sh '/tmp/emi stage/customize.sh'",
        '  exit status: 100',
        '  last output:',
        '    o2',
        '    o3',
        '    o4',
        '    o5',
        '    o6',
        '    E: Unable to locate package nginxx',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a tool that is not installed: says to install it', () => {
    const failure = toolStepFailure(
      {
        reason: 'spawn-error',
        code: 'ENOENT',
        file: 'debugfs',
        command: 'debugfs -R "ls -p /boot" root.img',
        stdoutTail: [],
        stderrTail: [],
      },
      'listing /boot',
    );
    expect(formatStepFailure('extract-kernel', failure, LOG)).toBe(
      [
        '✗ step extract-kernel failed: listing /boot: debugfs is not installed (not found on PATH). Install it (see `emi-recipe doctor` for the package).',
        '  command: debugfs -R "ls -p /boot" root.img',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a tool killed by a signal, and one that timed out', () => {
    const base = {
      file: 'qemu-system-x86_64',
      command: 'qemu-system-x86_64 -m 1024',
      stdoutTail: [],
      stderrTail: [],
    };
    expect(
      formatStepFailure(
        'boot-test',
        toolStepFailure({ ...base, reason: 'signal', signal: 'SIGKILL' }, 'booting'),
        LOG,
      ),
    ).toBe(
      [
        '✗ step boot-test failed: booting: qemu-system-x86_64 was killed by SIGKILL.',
        '  command: qemu-system-x86_64 -m 1024',
        '  killed by: SIGKILL',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
    expect(
      formatStepFailure(
        'boot-test',
        toolStepFailure({ ...base, reason: 'timeout', timeoutMs: 90_000 }, 'booting'),
        LOG,
      ),
    ).toBe(
      [
        '✗ step boot-test failed: booting: qemu-system-x86_64 did not finish within 90s and was stopped.',
        '  command: qemu-system-x86_64 -m 1024',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a full disk: the path, the errno in words, what to do, and how to resume', () => {
    const failure = fsStepFailure(
      { reason: 'fs-error', code: 'ENOSPC', path: '/w/artifacts/customize.partial/disk.qcow2' },
      'write',
      { doing: 'customizing' },
    );
    expect(formatStepFailure('customize', failure, LOG)).toBe(
      [
        '✗ step customize failed: customizing: cannot write /w/artifacts/customize.partial/disk.qcow2: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or use another work directory (--work-dir DIR). Finished steps are kept; run the same command again to resume.',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a read-only ISO cache points at EMI_RECIPE_CACHE_DIR, not --work-dir', () => {
    const failure = fsStepFailure(
      { reason: 'fs-error', code: 'EROFS', path: '/var/cache/emi-recipe/isos' },
      'write the cache directory',
      { place: 'cache-dir' },
    );
    expect(formatStepFailure('install-os', failure, LOG)).toBe(
      [
        '✗ step install-os failed: cannot write the cache directory /var/cache/emi-recipe/isos: the file system is read-only (EROFS). Remount it read-write, or point EMI_RECIPE_CACHE_DIR at a writable directory. Finished steps are kept; run the same command again to resume.',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a finding about the guest: detail, hint, path, console tail', () => {
    const failure = stepFailure(
      'guest',
      'boot-timeout',
      'the guest did not accept an SSH login within 2 min',
      {
        hint: 'see the console log; raise test.timeout if the guest is just slow',
        path: 'work/artifacts/boot-test.partial/console.log',
        outputTail: [
          'Begin: Running /scripts/local-block ... done.',
          'Gave up waiting for root file system device.',
        ],
      },
    );
    expect(formatStepFailure('boot-test', failure, LOG)).toBe(
      [
        '✗ step boot-test failed: the guest did not accept an SSH login within 2 min. see the console log; raise test.timeout if the guest is just slow.',
        '  path: work/artifacts/boot-test.partial/console.log',
        '  last output:',
        '    Begin: Running /scripts/local-block ... done.',
        '    Gave up waiting for root file system device.',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a bug: "internal error", the request to report it, and the top of the stack', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'field')");
    error.stack = [
      "TypeError: Cannot read properties of undefined (reading 'field')",
      '    at run (src/steps/customize.ts:10:5)',
    ].join('\n');
    expect(formatStepFailure('customize', internalStepFailure(error), LOG)).toBe(
      [
        "✗ step customize failed: internal error: Cannot read properties of undefined (reading 'field'). This is a bug in emi-recipe: please report it with the command, its output and the step's log.",
        '  stack:',
        "    TypeError: Cannot read properties of undefined (reading 'field')",
        '        at run (src/steps/customize.ts:10:5)',
        `  full log: ${LOG}`,
        '',
      ].join('\n'),
    );
  });

  test('a canceled step', () => {
    expect(formatStepFailure('install-os', CANCELED, LOG)).toBe(
      `✗ step install-os failed: stopped (interrupted)\n  full log: ${LOG}\n`,
    );
  });
});
