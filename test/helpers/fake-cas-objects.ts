// An in-memory S3 with the conditional semantics of PutObject (If-None-Match: *, If-Match
// -> 412), for the store's unit tests. Faults: fail the next request of an
// operation, or apply a put and then lose its answer (as a dropped connection does).
import { createHash } from 'node:crypto';
import { err, ok } from '../../src/core/result.js';
import type { CasObjects, PutCondition } from '../../src/store/cas-objects.js';

type Operation = 'get' | 'put' | 'remove';

export interface FakeCasObjects extends CasObjects {
  readonly objects: Map<string, { body: string; etag: string }>;
  /** Requests made, in order: `put state.json if-match`. */
  readonly log: string[];
  /** The next request of `op` fails with an io error (HTTP 503). */
  failNext(op: Operation, times?: number): void;
  /** The next put is applied, then answered with an io error (its answer was lost). */
  loseNextPutAnswer(): void;
}

function conditionText(condition: PutCondition): string {
  if ('ifNoneMatch' in condition) return 'if-none-match';
  if ('ifMatch' in condition) return 'if-match';
  return 'always';
}

export function fakeCasObjects(): FakeCasObjects {
  const objects = new Map<string, { body: string; etag: string }>();
  const failures = new Map<Operation, number>();
  let loseAnswer = false;
  let version = 0;
  const log: string[] = [];
  const failing = (op: Operation): boolean => {
    const n = failures.get(op) ?? 0;
    if (n === 0) return false;
    failures.set(op, n - 1);
    return true;
  };
  const io = { reason: 'io' as const, status: 503, detail: 'HTTP 503 SlowDown (fake)' };
  return {
    server: 'http://fake-s3',
    objects,
    log,
    failNext: (op, times = 1) => failures.set(op, times),
    loseNextPutAnswer: () => {
      loseAnswer = true;
    },
    get: (key) => {
      log.push(`get ${key}`);
      if (failing('get')) return Promise.resolve(err(io));
      const found = objects.get(key);
      return Promise.resolve(ok(found ? { ...found } : undefined));
    },
    put: (key, body, condition) => {
      log.push(`put ${key} ${conditionText(condition)}`);
      if (failing('put')) return Promise.resolve(err(io));
      const existing = objects.get(key);
      if ('ifNoneMatch' in condition && existing)
        return Promise.resolve(err({ reason: 'precondition-failed' as const }));
      if ('ifMatch' in condition && existing?.etag !== condition.ifMatch)
        return Promise.resolve(err({ reason: 'precondition-failed' as const }));
      version += 1;
      const etag = `"${createHash('md5')
        .update(`${String(version)}:${body}`)
        .digest('hex')}"`;
      objects.set(key, { body, etag });
      if (loseAnswer) {
        loseAnswer = false;
        return Promise.resolve(err(io));
      }
      return Promise.resolve(ok({ etag }));
    },
    remove: (key) => {
      log.push(`remove ${key}`);
      if (failing('remove')) return Promise.resolve(err(io));
      objects.delete(key);
      return Promise.resolve(ok(undefined));
    },
  };
}

/** A clock whose sleeps end only when the test advances it. */
export interface FakeClock {
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Moves time on by `ms`, ending the sleeps that are due, and lets their callers run. */
  readonly advance: (ms: number) => Promise<void>;
}

export function fakeClock(start = Date.parse('2026-11-30T12:00:00Z')): FakeClock {
  let t = start;
  let sleepers: { until: number; resolve: () => void }[] = [];
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    now: () => t,
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (signal.aborted) {
          resolve();
          return;
        }
        const sleeper = { until: t + ms, resolve };
        sleepers.push(sleeper);
        signal.addEventListener(
          'abort',
          () => {
            sleepers = sleepers.filter((s) => s !== sleeper);
            resolve();
          },
          { once: true },
        );
      }),
    advance: async (ms) => {
      const end = t + ms;
      // Step through the due sleeps in time order, so that a woken loop can sleep again.
      for (;;) {
        await settle();
        const next = sleepers.filter((s) => s.until <= end).sort((a, b) => a.until - b.until)[0];
        if (!next) break;
        t = Math.max(t, next.until);
        sleepers = sleepers.filter((s) => s !== next);
        next.resolve();
      }
      t = end;
      await settle();
    },
  };
}
