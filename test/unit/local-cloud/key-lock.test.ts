// KeyedMutex: tasks for one key run one at a time in queue order, other keys do not
// wait, a failing task does not block the next, and an idle key is forgotten.
import { describe, expect, test } from '@jest/globals';
import { KeyedMutex } from '../../../src/local-cloud/key-lock.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  test('serializes one key, in order; other keys run meanwhile', async () => {
    const lock = new KeyedMutex();
    const log: string[] = [];
    const task = (name: string) => async (): Promise<string> => {
      log.push(`${name} start`);
      await tick();
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      lock.run('k', task('a')),
      lock.run('k', task('b')),
      lock.run('other', task('c')),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log.indexOf('a end')).toBeLessThan(log.indexOf('b start'));
    expect(log.indexOf('c start')).toBeLessThan(log.indexOf('a end'));
    expect(lock.isBusy('k')).toBe(false);
    expect(lock.isBusy('other')).toBe(false);
  });

  test('a rejected task passes its error on and does not block the key', async () => {
    const lock = new KeyedMutex();
    const failed = lock.run('k', () => Promise.reject(new Error('boom')));
    const next = lock.run('k', () => Promise.resolve(2));
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(2);
    expect(lock.isBusy('k')).toBe(false);
  });
});
