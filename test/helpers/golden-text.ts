// Golden text files: compare generated text with a committed file; UPDATE_GOLDEN=1 rewrites it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from '@jest/globals';
import { repoPath } from './paths.js';

/** Expects `text` to equal test/fixtures/<relative>. */
export function expectGolden(relative: string, text: string): void {
  const path = repoPath('test', 'fixtures', relative);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  expect(text).toBe(readFileSync(path, 'utf8'));
}
