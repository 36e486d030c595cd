// extract-rootfs checks the file system a second time only when something changed it
// after the first check (a repair by e2fsck -p, or resize2fs).
import { describe, expect, test } from '@jest/globals';
import { needsFinalCheck } from '../../../src/steps/extract-rootfs.js';

describe('extract-rootfs final check', () => {
  test('clean and not resized: no second e2fsck', () => {
    expect(needsFinalCheck('clean', false)).toBe(false);
  });

  test('repaired or resized: checked again', () => {
    expect(needsFinalCheck('corrected', false)).toBe(true);
    expect(needsFinalCheck('clean', true)).toBe(true);
    expect(needsFinalCheck('corrected', true)).toBe(true);
  });
});
