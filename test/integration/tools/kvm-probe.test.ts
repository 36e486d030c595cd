// The KVM probe against the real QEMU and /dev/kvm of this host: a verdict with a reason,
// recorded so that the next call (and `plan`) read it without starting a VM.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { quietTask } from '../../../src/core/task.js';
import { exec } from '../../../src/tools/exec.js';
import { cachedProbe, probeAccel, PROBE_CACHE_FILE } from '../../../src/tools/qemu-accel.js';

const dir = mkdtempSync('/tmp/emi-kvm-probe-');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('KVM probe', () => {
  test('probes once, records the verdict, then reads it back without a VM', async () => {
    const env = { EMI_RECIPE_CACHE_DIR: dir };
    const signal = new AbortController().signal;
    expect(await cachedProbe(exec, signal, env)).toBeNull();
    const first = await probeAccel(exec, quietTask(signal), { force: true, env });
    expect(['kvm', 'tcg']).toContain(first.accel);
    expect(first.detail).toMatch(/KVM probe|\/dev\/kvm/);
    const recorded = JSON.parse(readFileSync(join(dir, PROBE_CACHE_FILE), 'utf8')) as {
      results: Record<string, unknown>;
    };
    expect(recorded.results[first.key]).toEqual(first);
    const started = Date.now();
    const second = await probeAccel(exec, quietTask(signal), { env });
    expect(second).toEqual(first);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await cachedProbe(exec, signal, env)).toEqual(first);
  }, 120_000);
});
