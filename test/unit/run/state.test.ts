import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  describeStateLoadFailure,
  emptyState,
  loadState,
  saveState,
  StateStore,
  statePath,
} from '../../../src/run/state.js';

const recipe = { name: 'r', path: '/r.yaml' };

describe('state.json', () => {
  test('a file of another format version is refused, not read as empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-state-'));
    for (const [version, found] of [
      [2, '2'],
      ['1', '"1"'],
      [null, 'null'],
    ] as const) {
      writeFileSync(
        statePath(dir),
        JSON.stringify({ ...emptyState(recipe), formatVersion: version }),
      );
      const r = await loadState(dir, recipe);
      expect(r).toEqual({
        ok: false,
        error: { reason: 'state-version', path: statePath(dir), found },
      });
    }
    const r = await loadState(dir, recipe);
    expect(r.ok ? undefined : describeStateLoadFailure(r.error, 'r.yaml')).toBe(
      `${statePath(dir)} has state format version null; this emi-recipe reads version 1 only (it was written by another emi-recipe version). Nothing was changed. Use the emi-recipe that wrote it, or start over with: emi-recipe clean r.yaml`,
    );
    await saveState(dir, emptyState(recipe));
    expect((await loadState(dir, recipe)).ok).toBe(true);
  });

  test('a failed write leaves the store as on disk, and a later write does not carry it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-state-'));
    const store = new StateStore(dir, emptyState(recipe));
    await store.update((s) => ({
      ...s,
      tools: { '/bin/a': { size: 1, mtimeMs: 1, version: '1' } },
    }));
    const written = readFileSync(statePath(dir), 'utf8');
    // A store whose directory is gone: every write fails.
    const broken = new StateStore(join(dir, 'gone'), store.current);
    await expect(broken.update((s) => ({ ...s, files: {}, tools: {} }))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(broken.current.tools).toEqual(store.current.tools);
    expect(readFileSync(statePath(dir), 'utf8')).toBe(written);
  });
});
