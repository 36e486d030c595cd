// Paging a listing over continuation tokens (and refusing a server that would never end
// it), deleting in batches of 1000 with per-key refusals, over an in-memory port; and the
// --older-than duration.
import { describe, expect, test } from '@jest/globals';
import { err, ok } from '../../../src/core/result.js';
import {
  deleteAllObjects,
  listAllObjects,
  type ObjectListingPort,
} from '../../../src/cloud/object-listing.js';
import { parseAge } from '../../../src/cli/commands/cache-age.js';

const signal = new AbortController().signal;
const at = new Date('2026-11-30T00:00:00Z');

function fakePort(keys: string[], options: { stuckToken?: boolean } = {}) {
  const store = new Set(keys);
  const batches: number[] = [];
  const port: ObjectListingPort = {
    where: 'fake',
    listPage(request) {
      const all = [...store].filter((k) => k.startsWith(request.prefix)).sort();
      const after = options.stuckToken ? '' : (request.token ?? '');
      const rest = all.filter((k) => k > after);
      const page = rest.slice(0, request.maxKeys ?? 1000);
      const more = rest.length > page.length;
      const next = options.stuckToken ? 'same' : page.at(-1);
      return Promise.resolve(
        ok({
          objects: page.map((key) => ({ key, size: 1, lastModified: at })),
          ...(more && next !== undefined ? { next } : {}),
        }),
      );
    },
    deleteBatch(batch) {
      batches.push(batch.length);
      if (batch.length > 1000)
        return Promise.resolve(
          err({ reason: 'refused', endpoint: 'fake', service: 's3', operation: 'DeleteObjects' }),
        );
      const refused = batch
        .filter((k) => k.endsWith('locked'))
        .map((key) => ({ key, code: 'AccessDenied', message: 'no' }));
      for (const k of batch) if (!k.endsWith('locked')) store.delete(k);
      return Promise.resolve(ok(refused));
    },
  };
  return { port, store, batches };
}

const many = (n: number, prefix = 'p/'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

describe('listAllObjects', () => {
  test('follows continuation tokens to the end, in key order', async () => {
    const { port } = fakePort([...many(25), 'q/other']);
    const listed = await listAllObjects(port, 'p/', signal, 7);
    expect(listed.ok && listed.value.map((o) => o.key)).toEqual(many(25));
  });

  test('a server that gives the same token again is a failure, not an endless loop', async () => {
    const { port } = fakePort(many(5), { stuckToken: true });
    const listed = await listAllObjects(port, 'p/', signal, 2);
    expect(listed.ok).toBe(false);
    expect(!listed.ok && listed.error.cloudMessage).toMatch(/would not end/);
  });
});

describe('deleteAllObjects', () => {
  test('sends at most 1000 keys a request and reports the keys refused one by one', async () => {
    const keys = [...many(2500), 'p/locked'];
    const { port, store, batches } = fakePort(keys);
    const r = await deleteAllObjects(port, keys, signal);
    expect(batches).toEqual([1000, 1000, 501]);
    expect(r.deleted).toHaveLength(2500);
    expect(r.refused).toEqual([{ key: 'p/locked', code: 'AccessDenied', message: 'no' }]);
    expect([...store]).toEqual(['p/locked']);
  });
});

describe('parseAge (--older-than)', () => {
  test.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['1d12h', 36 * 3_600_000],
    ['0s', 0],
  ])('%s', (text, ms) => {
    expect(parseAge(text)).toBe(ms);
  });

  test.each(['30', '3x', 'd', '-1d', '1.5d', ''])('refuses %j naming what it expects', (text) => {
    expect(() => parseAge(text)).toThrow(/expected a duration such as 30d/);
  });
});
