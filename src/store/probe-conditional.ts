// Does the server honour conditional writes? A second If-None-Match: * create of the same
// key must be refused (412), and so must an If-Match with an ETag it never gave. Servers
// that ignore the headers (older Eucalyptus object storage, some gateways) would let two
// runners both take the lock and overwrite each other's state: such a store is refused.
import { randomUUID } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import type { CasObjects, ObjectIoFailure } from './cas-objects.js';

/** What the probe found wrong: the header ignored, or the server unreachable. */
export type ProbeFailure =
  { readonly reason: 'ignored'; readonly header: 'If-None-Match' | 'If-Match' } | ObjectIoFailure;

/**
 * Probes with a fresh key below `prefix` (removed afterwards). Four requests; call once
 * per store and process.
 */
export async function probeConditionalWrites(
  objects: CasObjects,
  prefix: string,
  signal: AbortSignal,
): Promise<Result<void, ProbeFailure>> {
  const key = `${prefix === '' ? '' : `${prefix}/`}.emi-recipe-probe-${randomUUID()}`;
  const body = '{"probe":"emi-recipe conditional writes"}\n';
  const first = await objects.put(key, body, { ifNoneMatch: '*' }, signal);
  if (!first.ok)
    return err(
      first.error.reason === 'io' ? first.error : { reason: 'ignored', header: 'If-None-Match' },
    );
  try {
    const second = await objects.put(key, body, { ifNoneMatch: '*' }, signal);
    if (second.ok) return err({ reason: 'ignored', header: 'If-None-Match' });
    if (second.error.reason === 'io') return err(second.error);
    const wrong = await objects.put(key, body, { ifMatch: `"${'0'.repeat(32)}"` }, signal);
    if (wrong.ok) return err({ reason: 'ignored', header: 'If-Match' });
    if (wrong.error.reason === 'io') return err(wrong.error);
    return ok(undefined);
  } finally {
    await objects.remove(key, signal);
  }
}
