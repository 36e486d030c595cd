import { describe, expect, test } from '@jest/globals';
import { formatDuration, formatSize, parseDuration, parseSize } from '../../../src/recipe/units.js';

describe('parseSize', () => {
  test.each([
    ['5G', 5 * 2 ** 30],
    ['5GiB', 5 * 2 ** 30],
    ['512MiB', 512 * 2 ** 20],
    ['512M', 512 * 2 ** 20],
    ['1.5K', 1536],
    ['2GB', 2e9],
    ['10kB', 10_000],
    ['10k', 10_240],
    ['100B', 100],
    ['4096', 4096],
    ['2 G', 2 * 2 ** 30],
    [1073741824, 1073741824],
    [0, 0],
  ])('%s -> %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(['8 gigs', '5X', '', 'G', '-1G', '0.3K', '1.5'])('rejects %s', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  test('rejects negative and fractional numbers', () => {
    expect(parseSize(-1)).toBeUndefined();
    expect(parseSize(1.5)).toBeUndefined();
  });
});

describe('parseDuration', () => {
  test.each([
    ['90s', 90_000],
    ['45m', 2_700_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['30', 30_000],
    [5, 5000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['45 minutes', '1.5h', 'h', 'm30'])('rejects %s', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatting', () => {
  test('sizes', () => {
    expect(formatSize(5 * 2 ** 30)).toBe('5 GiB');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(100)).toBe('100 B');
  });
  test('durations', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
