// The work directory as a store: the same state.json and lock file as before; its lock
// now has an ID, and `unlock ID` removes a dead process's lock, refuses a wrong ID and
// refuses the lock of a process still running here.
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { emptyState, withStep } from '../../../src/run/state.js';
import { localRecipeStore } from '../../../src/store/local-store.js';

const recipe = { name: 'demo', path: '/r/demo.yaml' };
const request = {
  operation: 'apply demo.yaml',
  version: '1',
  leaseMs: 60_000,
  waitMs: 0,
  signal: new AbortController().signal,
};

describe('the work directory as a store', () => {
  test('state round trip through state.json, no lineage or serial added', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-local-store-'));
    const store = localRecipeStore(dir, 'demo.yaml');
    const read = await store.readState(recipe);
    if (!read.ok) throw new Error('read failed');
    const next = withStep(read.value.state, 'x', undefined);
    expect((await store.writeState(next, read.value.version)).ok).toBe(true);
    expect(existsSync(join(dir, 'state.json'))).toBe(true);
    const again = await store.readState(recipe);
    expect(again.ok && again.value.state).toEqual(emptyState(recipe));
  });

  test('its lock has an ID; unlock refuses a wrong ID and the lock of a living process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-local-store-'));
    const store = localRecipeStore(dir, 'demo.yaml');
    const lock = await store.lock(request);
    if (!lock.ok) throw new Error('lock failed');
    expect(lock.value.holder.id).toMatch(/^[0-9a-f-]{36}$/);
    const wrong = await store.unlock('nope');
    expect(!wrong.ok && wrong.error.reason).toBe('unlock-mismatch');
    const alive = await store.unlock(lock.value.holder.id);
    expect(!alive.ok && alive.error.reason).toBe('unlock-alive');
    await lock.value.release();
  });

  test("unlock removes a dead process's lock by its ID", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-local-store-'));
    writeFileSync(
      join(dir, 'lock'),
      JSON.stringify({
        id: 'dead-lock-id',
        pid: 999_999_999,
        startTime: '1',
        host: hostname(),
        command: 'emi-recipe apply demo.yaml',
        since: '2026-11-30T00:00:00.000Z',
      }),
    );
    const store = localRecipeStore(dir, 'demo.yaml');
    const r = await store.unlock('dead-lock-id');
    expect(r.ok && r.value.pid).toBe(999_999_999);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });
});
