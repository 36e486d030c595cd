// The golden helper itself: a missing golden file fails the test and is not created.
import { existsSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { expectGolden } from '../../helpers/golden-text.js';
import { repoPath } from '../../helpers/paths.js';

// Skipped while updating goldens: UPDATE_GOLDEN=1 writes whatever text it is given.
const describeUnlessUpdating = process.env.UPDATE_GOLDEN === '1' ? describe.skip : describe;

describeUnlessUpdating('expectGolden', () => {
  test('a missing golden file is a failure, and the file is not written', () => {
    const relative = 'answers/no-such-golden-for-this-test.cfg';
    expect(() => {
      expectGolden(relative, 'generated text\n');
    }).toThrow(/no golden file .*UPDATE_GOLDEN=1/);
    expect(existsSync(repoPath('test', 'fixtures', relative))).toBe(false);
  });

  test('a golden file that differs is a failure', () => {
    expect(() => {
      expectGolden('answers/ks.cfg', 'not the kickstart file\n');
    }).toThrow();
  });
});
