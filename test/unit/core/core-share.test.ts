// The run's shared cores: claims are counted and released once; free() never drops below 1.
import { describe, expect, test } from '@jest/globals';
import { coreShare } from '../../../src/core/core-share.js';

describe('coreShare', () => {
  test('a claim takes cores until released; releasing twice gives back once', () => {
    const cores = coreShare(4);
    expect(cores.free()).toBe(4);
    const vm = cores.claim(2);
    expect(cores.free()).toBe(2);
    const other = cores.claim(1);
    expect(cores.free()).toBe(1);
    vm();
    vm();
    expect(cores.free()).toBe(3);
    other();
    expect(cores.free()).toBe(4);
  });

  test('work that asks always gets one core, even when all are claimed', () => {
    const cores = coreShare(2);
    const release = cores.claim(3);
    expect(cores.free()).toBe(1);
    release();
    expect(cores.free()).toBe(2);
  });
});
