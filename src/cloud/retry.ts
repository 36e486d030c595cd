// Our own retry loop around one logical cloud request, on top of the SDK's: for failures
// the SDK gave up on (a connection dropped mid-body, a long 503 SlowDown spell, a corrupted
// upload). Exponential backoff with full jitter; sleeps end at once on abort.
import { sleep } from '../core/sleep.js';
import type { Result } from '../core/result.js';
import type { CloudFailure } from './aws-errors.js';

export interface RetryPolicy {
  /** Total attempts (>= 1). Default 6. */
  readonly attempts: number;
  /** First backoff; doubles each time. Default 500 ms. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff. Default 20 s. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 20_000 };

/** Failures another attempt may cure. */
export function isTransientFailure(failure: CloudFailure): boolean {
  switch (failure.reason) {
    case 'throttled':
    case 'server-error':
    case 'timeout':
    case 'integrity':
      return true;
    case 'unexpected':
      // A socket closed before a response arrived can surface without a known code.
      return failure.httpStatus === undefined;
    case 'auth-failure':
    case 'access-denied':
    case 'unreachable':
    case 'not-found':
    case 'refused':
    case 'image-failed':
    case 'wait-timeout':
    case 'canceled':
    case 'local-file':
      return false;
  }
}

/**
 * Runs `attempt` until it succeeds, fails permanently, attempts run out or `signal`
 * aborts. The last failure is returned with `attempts` set where the variant has it.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<Result<T, CloudFailure>>,
  options: {
    readonly policy?: Partial<RetryPolicy>;
    readonly signal: AbortSignal;
    readonly onRetry?: (failure: CloudFailure, attempt: number, delayMs: number) => void;
  },
): Promise<Result<T, CloudFailure>> {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
  let n = 1;
  for (;;) {
    const result = await attempt(n);
    if (result.ok) return result;
    const failure = result.error;
    if (options.signal.aborted || n >= policy.attempts || !isTransientFailure(failure)) {
      if (failure.reason === 'throttled' || failure.reason === 'server-error')
        return { ok: false, error: { ...failure, attempts: n } };
      return result;
    }
    const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
    const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
    options.onRetry?.(failure, n, delay);
    await sleep(delay, options.signal);
    n += 1;
  }
}
