// writeFileAtomic: the mode a secret is created with, and no temp file left behind when
// the final rename fails.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { writeFileAtomic } from '../../../src/core/atomic-write.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  test('a file written with mode 0600 is 0600, replacing an existing 0644 file', async () => {
    const path = join(dir, 'secret');
    await writeFileAtomic(path, 'old');
    expect(statSync(path).mode & 0o077).not.toBe(0); // readable by others (umask 022)
    await writeFileAtomic(path, 'new secret', { mode: 0o600 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('new secret');
  });

  test('a failed rename (the target is a directory) leaves no temp file behind', async () => {
    const target = join(dir, 'plan.json');
    mkdirSync(target);
    await expect(writeFileAtomic(target, '{}')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(readdirSync(dir)).toEqual(['plan.json']);
  });
});
