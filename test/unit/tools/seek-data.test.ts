// The SEEK_DATA/SEEK_HOLE lister's argv and output parser (the script runs in integration tests).
import { describe, expect, test } from '@jest/globals';
import { parseDataExtents, seekDataArgs } from '../../../src/tools/seek-data.js';

describe('seek-data', () => {
  test('argv passes the path after --', () => {
    const args = seekDataArgs('-weird name');
    expect(args[0]).toBe('-e');
    expect(args.slice(2)).toEqual(['--', '-weird name']);
  });

  test('parses extents and the size line', () => {
    expect(parseDataExtents('0 4096\n1048576 2097152\nend 3000000\n')).toEqual({
      extents: [
        { start: 0, end: 4096 },
        { start: 1048576, end: 2097152 },
      ],
      size: 3000000,
    });
    expect(parseDataExtents('end 0\n')).toEqual({ extents: [], size: 0 });
  });

  test('clips the last extent to the size and drops empty ones', () => {
    expect(parseDataExtents('0 8192\nend 5000\n')).toEqual({
      extents: [{ start: 0, end: 5000 }],
      size: 5000,
    });
  });

  test('refuses truncated, unordered or garbled output', () => {
    expect(parseDataExtents('0 4096\n')).toBeUndefined();
    expect(parseDataExtents('4096 8192\n0 10\nend 9000\n')).toBeUndefined();
    expect(parseDataExtents('oops\nend 10\n')).toBeUndefined();
    expect(parseDataExtents('')).toBeUndefined();
  });
});
