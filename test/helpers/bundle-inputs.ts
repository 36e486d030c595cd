// Inputs for the bundle integration tests: the golden images (recreated with the fixture's
// make-inputs.sh), throw-away temp dirs, and copies of golden bundles to tamper with.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_DIR, type GoldenCase } from './golden.js';

/** A fresh temp dir; remove it with removeDir. */
export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `emi-${label}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Recreates the five golden input images in `dir` (sh make-inputs.sh) and returns `dir`. */
export function makeGoldenInputs(dir: string): string {
  const r = spawnSync('sh', [join(GOLDEN_DIR, 'make-inputs.sh'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-inputs.sh failed: ${r.stderr}`);
  return dir;
}

/** A writable copy of a golden bundle's directory. */
export function copyGoldenBundle(c: GoldenCase, into: string): string {
  const dir = join(into, c.name);
  cpSync(join(GOLDEN_DIR, 'bundles', c.name), dir, { recursive: true });
  return dir;
}

/** Files in a directory (sorted), to check that nothing was left behind. */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}
