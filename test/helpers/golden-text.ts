// Golden text files: compare generated text with a committed file; UPDATE_GOLDEN=1 rewrites it.
// A missing golden file is a failure (never written silently): a test must be able to fail.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from '@jest/globals';
import { repoPath } from './paths.js';

/** Expects `text` to equal test/fixtures/<relative>; fails when that file does not exist. */
export function expectGolden(relative: string, text: string): void {
  const path = repoPath('test', 'fixtures', relative);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const golden = existsSync(path)
    ? readFileSync(path, 'utf8')
    : `(no golden file ${path}: run the test with UPDATE_GOLDEN=1, then review and commit it)`;
  expect(text).toBe(golden);
}
