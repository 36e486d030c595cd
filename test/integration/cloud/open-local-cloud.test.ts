// One process that opens its embedded cloud twice (apply with a shared store in the local
// cloud: the store opens it, then publishing does) shares one server: the second open is
// not refused as "already served by process <self>", and the server stops only when the
// last opener closes it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { openLocalCloud } from '../../../src/local-cloud/server.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-open-cloud-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const answers = async (port: number): Promise<boolean> => {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
};

describe('openLocalCloud twice in one process', () => {
  test('shares one server, which stops when the last opener closes it', async () => {
    const dataDir = join(dir, 'cloud');
    const [a, b] = await Promise.all([openLocalCloud({ dataDir }), openLocalCloud({ dataDir })]);
    if (!a.ok || !b.ok) throw new Error(`open failed: ${JSON.stringify([a, b])}`);
    expect(b.value.port).toBe(a.value.port);
    const third = await openLocalCloud({ dataDir });
    if (!third.ok) throw new Error(JSON.stringify(third.error));
    expect(third.value.port).toBe(a.value.port);
    await a.value.close();
    await a.value.close(); // twice is once
    await third.value.close();
    expect(await answers(b.value.port)).toBe(true);
    await b.value.close();
    expect(await answers(b.value.port)).toBe(false);
    // Closed by all: the next open starts a new server.
    const again = await openLocalCloud({ dataDir });
    if (!again.ok) throw new Error(JSON.stringify(again.error));
    expect(await answers(again.value.port)).toBe(true);
    await again.value.close();
  });
});
