// The boot test's wait for the guest's SSH login: attempts every POLL_MS, right away once
// rc.local's console line says the key is in (also when it came during an attempt that
// then failed), until the guest stops, the deadline passes or the run is canceled. The
// successful login may leave a multiplexing master behind for the test's commands.
import { describeToolFailure } from '../core/failure.js';
import type { Exec } from '../tools/exec.js';
import { runOnGuest, type SshTarget } from '../tools/ssh.js';
import { HINTED_POLL_MS, POLL_MS, waitOrWake } from './boot-vm.js';

/** rc.local's "key installed" seen on the console, and how to cut a wait short when it comes. */
export interface KeyHint {
  seen: boolean;
  wake: () => void;
}

export type LoginOutcome =
  | { readonly kind: 'logged-in'; readonly atMs: number }
  | { readonly kind: 'guest-stopped' | 'timeout'; readonly lastError: string }
  | { readonly kind: 'canceled' };

export interface LoginWait {
  readonly exec: Exec;
  readonly target: SshTarget;
  readonly signal: AbortSignal;
  /** Date.now() when QEMU started; the deadline is `startedMs + timeoutMs`. */
  readonly startedMs: number;
  readonly timeoutMs: number;
  readonly hint: KeyHint;
  readonly hasExited: () => boolean;
}

/** Tries `ssh … true` until it works (the guest took the key) or the wait ends. */
export async function waitForLogin(w: LoginWait): Promise<LoginOutcome> {
  let lastError = '';
  for (;;) {
    if (w.signal.aborted) return { kind: 'canceled' };
    if (w.hasExited()) return { kind: 'guest-stopped', lastError };
    const left = w.timeoutMs - (Date.now() - w.startedMs);
    if (left < 0) return { kind: 'timeout', lastError };
    const hintedBefore = w.hint.seen;
    // Each attempt waits at most ~20 s (a TCG guest's sshd can take a while to answer).
    const attempt = await runOnGuest(w.exec, w.target, 'true', {
      signal: w.signal,
      timeoutMs: Math.max(5000, Math.min(20_000, left)),
    });
    if (attempt.ok) return { kind: 'logged-in', atMs: Date.now() - w.startedMs };
    lastError = attempt.error.stderrTail.at(-1) ?? describeToolFailure(attempt.error);
    // The key came while this attempt was under way (it was refused before): try again now.
    if (!hintedBefore && w.hint.seen) continue;
    await waitOrWake(w.hint.seen ? HINTED_POLL_MS : POLL_MS, w.signal, w.hint);
  }
}
