// doctor with an injected exec, PATH lookup and probe: no processes run.
import { describe, expect, test } from '@jest/globals';
import { runDoctor } from '../../../src/cli/commands/doctor.js';
import { memoryTerminal } from '../../../src/cli/output/terminal.js';
import { ok } from '../../../src/core/result.js';
import type { Exec } from '../../../src/tools/exec.js';
import type { AccelProbe } from '../../../src/tools/qemu-accel.js';

const fakeExec: Exec = (file) =>
  Promise.resolve(
    ok({ stdout: `${file.split('/').pop() ?? ''} version 1.2.3\n`, stderr: '', durationMs: 1 }),
  );
const probe: AccelProbe = {
  accel: 'tcg',
  detail: 'KVM probe: booting /boot/vmlinuz-x under KVM hung',
  key: 'linux-6/qemu-7.2',
  checkedAt: '2025-01-01T00:00:00.000Z',
};

describe('doctor', () => {
  test('all present: exit 0, versions, KVM verdict', async () => {
    const terminal = memoryTerminal();
    const code = await runDoctor({ json: false, reprobe: false }, terminal, {
      exec: fakeExec,
      env: { PATH: '/usr/bin', EMI_RECIPE_CACHE_DIR: '/c' },
      signal: new AbortController().signal,
      find: (p) => Promise.resolve(`/usr/bin/${p}`),
      probe: () => Promise.resolve(probe),
      isRoot: true,
    });
    expect(code).toBe(0);
    const out = terminal.stdout();
    expect(out).toContain(
      '  ok      qemu-img            qemu-img version 1.2.3  (disks, overlays, partition copies)',
    );
    expect(out).toContain(
      'KVM: not usable, VMs use TCG (slower): KVM probe: booting /boot/vmlinuz-x under KVM hung',
    );
    expect(out).toContain('/c/kvm-probe.json');
    expect(out).toContain('All required tools are present.');
  });

  test('missing tools: exit 1 and the packages to install, once each', async () => {
    const terminal = memoryTerminal();
    const absent = new Set(['debugfs', 'e2fsck', 'xorriso', 'vmdb2']);
    const code = await runDoctor({ json: true, reprobe: false }, terminal, {
      exec: fakeExec,
      env: { PATH: '/usr/bin' },
      signal: new AbortController().signal,
      find: (p) => Promise.resolve(absent.has(p) ? null : `/usr/bin/${p}`),
      probe: () => Promise.resolve(probe),
      isRoot: false,
    });
    expect(code).toBe(1);
    const report = JSON.parse(terminal.stdout()) as {
      ok: boolean;
      missingPackages: string[];
      tools: { program: string; path: string | null }[];
      kvm: { accel: string };
    };
    expect(report.ok).toBe(false);
    expect(report.missingPackages).toEqual(['e2fsprogs', 'xorriso']);
    expect(report.tools.find((t) => t.program === 'vmdb2')?.path).toBeNull();
    expect(report.kvm.accel).toBe('tcg');
  });

  test('without qemu-system-x86_64 there is no probe', async () => {
    const terminal = memoryTerminal();
    await runDoctor({ json: false, reprobe: false }, terminal, {
      exec: fakeExec,
      env: {},
      signal: new AbortController().signal,
      find: (p) => Promise.resolve(p === 'qemu-system-x86_64' ? null : `/bin/${p}`),
      probe: () => Promise.reject(new Error('must not probe')),
      isRoot: true,
    });
    expect(terminal.stdout()).toContain('KVM: not probed (qemu-system-x86_64 is missing)');
    expect(terminal.stdout()).toContain('sudo apt-get install qemu-system-x86');
  });
});
