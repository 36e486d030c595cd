// The boot test's wait for the SSH login: when rc.local's "key installed" line comes while
// an attempt is under way (one that the guest then refuses, the key not yet in place), the
// next attempt starts at once instead of after a poll interval; without the line, attempts
// are paced by POLL_MS; a stopped guest and the deadline end the wait.
import { describe, expect, test } from '@jest/globals';
import { err, ok } from '../../../src/core/result.js';
import type { Exec } from '../../../src/tools/exec.js';
import { HINTED_POLL_MS, POLL_MS } from '../../../src/vm/boot-vm.js';
import { type KeyHint, waitForLogin } from '../../../src/vm/guest-login.js';

const target = { user: 'debian', port: 2222, keyPath: '/k', connectTimeoutS: 5 };
const refused = (file: string) =>
  err({
    reason: 'exit-non-zero' as const,
    exitCode: 255,
    file,
    command: file,
    stderrTail: ['debian@127.0.0.1: Permission denied (publickey).'],
    stdoutTail: [],
  });

/** ssh that refuses `refusals` times (each taking `attemptMs`), then logs in; records start times. */
function fakeSsh(o: { refusals: number; attemptMs: number; onAttempt?: (n: number) => void }) {
  const starts: number[] = [];
  const exec: Exec = async (file) => {
    starts.push(Date.now());
    o.onAttempt?.(starts.length);
    await new Promise((r) => setTimeout(r, o.attemptMs));
    return starts.length > o.refusals
      ? ok({ stdout: '', stderr: '', durationMs: o.attemptMs })
      : refused(file);
  };
  return { exec, starts };
}

const wait = (
  exec: Exec,
  hint: KeyHint,
  extra: { timeoutMs?: number; exited?: () => boolean } = {},
) =>
  waitForLogin({
    exec,
    target,
    signal: new AbortController().signal,
    startedMs: Date.now(),
    timeoutMs: extra.timeoutMs ?? 60_000,
    hint,
    hasExited: extra.exited ?? (() => false),
  });

describe('waitForLogin', () => {
  test('the key line during a refused attempt: the next attempt starts at once', async () => {
    const hint: KeyHint = { seen: false, wake: () => {} };
    const ssh = fakeSsh({
      refusals: 1,
      attemptMs: 50,
      // The console line arrives while the first attempt is still running.
      onAttempt: (n) => {
        if (n === 1) setTimeout(() => (hint.seen = true), 10);
      },
    });
    const outcome = await wait(ssh.exec, hint);
    expect(outcome.kind).toBe('logged-in');
    expect(ssh.starts).toHaveLength(2);
    const gap = ssh.starts[1]! - ssh.starts[0]!;
    expect(gap).toBeLessThan(50 + HINTED_POLL_MS / 2);
  });

  test('without the key line, a refused attempt is retried after POLL_MS, unless the line wakes it', async () => {
    const hint: KeyHint = { seen: false, wake: () => {} };
    const ssh = fakeSsh({ refusals: 1, attemptMs: 10 });
    const started = Date.now();
    // The line comes 200 ms into the pause after the first refusal.
    setTimeout(() => {
      hint.seen = true;
      hint.wake();
    }, 210);
    const outcome = await wait(ssh.exec, hint);
    expect(outcome.kind).toBe('logged-in');
    const second = ssh.starts[1]! - started;
    expect(second).toBeGreaterThanOrEqual(200);
    expect(second).toBeLessThan(POLL_MS);
  });

  test('a guest that stopped, or the deadline, ends the wait with the last SSH error', async () => {
    const hint: KeyHint = { seen: false, wake: () => {} };
    const stopped = await wait(fakeSsh({ refusals: 99, attemptMs: 5 }).exec, hint, {
      exited: () => true,
    });
    expect(stopped).toEqual({ kind: 'guest-stopped', lastError: '' });
    const late = await wait(fakeSsh({ refusals: 99, attemptMs: 5 }).exec, hint, { timeoutMs: -1 });
    expect(late.kind).toBe('timeout');
  });
});
