import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { processStartTime, readLock, takeLock } from '../../../src/run/lock.js';

const workDir = () => mkdtempSync(join(tmpdir(), 'emi-lock-'));
const deadHolder = { pid: 999999, startTime: '1', host: hostname(), command: 'x', since: 'y' };

describe('the work directory lock', () => {
  test('is written whole, names this process, and leaves no temp file', async () => {
    const dir = workDir();
    const lock = await takeLock(dir, 'emi-recipe apply r.yaml');
    if (!lock.ok) throw new Error('not taken');
    expect(readdirSync(dir)).toEqual(['lock']);
    expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
      startTime: processStartTime(process.pid),
      host: hostname(),
      command: 'emi-recipe apply r.yaml',
    });
    expect(await readLock(dir)).toMatchObject({ state: 'held', holder: { pid: process.pid } });
    const again = await takeLock(dir, 'second');
    expect(again.ok ? undefined : again.error).toMatchObject({
      reason: 'locked',
      holder: { pid: process.pid, command: 'emi-recipe apply r.yaml' },
    });
    await lock.value.release();
    expect(readdirSync(dir)).toEqual([]);
    expect(await readLock(dir)).toEqual({ state: 'free' });
  });

  test('a lock of a dead process is stale and taken over, naming the dead holder', async () => {
    const dir = workDir();
    writeFileSync(join(dir, 'lock'), JSON.stringify(deadHolder));
    expect(await readLock(dir)).toEqual({ state: 'stale', holder: deadHolder });
    const lock = await takeLock(dir, 'c');
    expect(lock.ok ? lock.value.staleHolder : lock.error).toEqual(deadHolder);
    expect(readdirSync(dir)).toEqual(['lock']);
  });

  test('an empty or garbled lock file blocks nothing', async () => {
    for (const text of ['', '{"pid":', 'null', '{}']) {
      const dir = workDir();
      writeFileSync(join(dir, 'lock'), text);
      expect(await readLock(dir)).toEqual({ state: 'stale' });
      const lock = await takeLock(dir, 'c');
      expect(lock.ok).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({
        pid: process.pid,
      });
      expect(readdirSync(dir)).toEqual(['lock']);
    }
  });

  test('a lock from another host is never assumed stale', async () => {
    const dir = workDir();
    writeFileSync(join(dir, 'lock'), JSON.stringify({ ...deadHolder, host: 'elsewhere' }));
    const lock = await takeLock(dir, 'c');
    expect(lock.ok ? undefined : lock.error.reason).toBe('locked');
    expect(existsSync(join(dir, 'lock'))).toBe(true);
  });
});
