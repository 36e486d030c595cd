// The namespace sandbox with the real unshare and nsenter (root): mounts made inside are
// invisible on the host, processes inside are killed on request and when it closes, and a
// program that does not exist inside is a spawn error naming that program.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { quietTask } from '../../../src/core/task.js';
import { exec } from '../../../src/tools/exec.js';
import { mountsBelow } from '../../../src/tools/mount.js';
import { openSandbox } from '../../../src/tools/namespace.js';

const maybe = process.getuid?.() === 0 ? describe : describe.skip;
const never = new AbortController().signal;
const alive = (pid: number): boolean => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

maybe('namespace sandbox', () => {
  test('a tmpfs mounted inside is seen inside only; its processes die on killInside and close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-ns-'));
    const target = join(dir, 'm');
    mkdirSync(target);
    const opened = await openSandbox(exec, quietTask());
    if (!opened.ok) throw new Error(JSON.stringify(opened.error));
    const sb = opened.value;
    try {
      expect((await sb.exec('mount', ['-t', 'tmpfs', 'x', target], { signal: never })).ok).toBe(
        true,
      );
      expect(mountsBelow(await sb.mounts(), dir)).toEqual([target]);
      expect(mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), dir)).toEqual([]);
      const missing = await sb.exec('no-such-program-emi', [], { signal: never });
      expect(missing).toMatchObject({
        ok: false,
        error: { reason: 'spawn-error', code: 'ENOENT', file: 'no-such-program-emi' },
      });
      // A process that left its parent's group and session: killInside still finds it.
      // (Its output pipes stay open until it dies, so `running` ends only after the kill.)
      const running = sb.exec('setsid', ['--fork', 'sleep', '4401'], { signal: never });
      await new Promise((r) => setTimeout(r, 500));
      expect(await sb.killInside()).toBe(1);
      expect((await running).ok).toBe(true);
      expect(await sb.killInside()).toBe(0);
    } finally {
      await sb.close();
    }
    rmSync(dir, { recursive: true });
  });

  test('close ends everything still running inside', async () => {
    const opened = await openSandbox(exec, quietTask());
    if (!opened.ok) throw new Error(JSON.stringify(opened.error));
    let pid = 0;
    const running = opened.value.exec('sleep', ['4403'], {
      signal: never,
      onSpawn: (p) => (pid = p),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(pid)).toBe(true);
    await opened.value.close();
    const r = await running;
    expect(r.ok).toBe(false);
    expect(alive(pid)).toBe(false);
  });
});
