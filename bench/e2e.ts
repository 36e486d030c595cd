// npm run bench:e2e — the user's view of speed, with the real tools on this machine:
//  1. the full build of recipes/debian-minimal.yaml from nothing, boot test included
//     (target on 2 cores under TCG: under 3 minutes);
//  2. the no-op re-apply (target: under 1 s);
//  3. a one-package change (target: under 1 minute; debootstrap never runs again).
// Runs the built CLI as a process in a fresh temp folder (a fresh local cloud too).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoPath } from '../test/helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-bench-e2e-'));
const recipe = join(dir, 'debian-minimal.yaml');
copyFileSync(repoPath('recipes', 'debian-minimal.yaml'), recipe);

function apply(label: string, target: number): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [repoPath('bin', 'emi-recipe.js'), 'apply', recipe, '--no-progress'],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`${label}: apply exited with ${String(r.status)}`);
  }
  const verdict = seconds < target ? 'meets' : 'MISSES';
  console.log(
    `${label.padEnd(40)} ${seconds.toFixed(2).padStart(8)} s   (target < ${target} s: ${verdict})`,
  );
  return { seconds, stdout: r.stdout };
}

function stepTimes(stdout: string): string {
  return [...stdout.matchAll(/✓ ([a-z-]+) \(([^)]+)\)/g)]
    .map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`)
    .join(', ');
}

console.log(`emi-recipe end to end, recipes/debian-minimal.yaml, in ${dir}`);
const full = apply('full build with boot test', 180);
console.log(`  steps: ${stepTimes(full.stdout)}`);
apply('no-op re-apply', 1);
writeFileSync(
  recipe,
  readFileSync(recipe, 'utf8').replace('packages: [less]', 'packages: [less, nano]'),
);
const change = apply('one-package change (customize.packages)', 60);
console.log(`  steps: ${stepTimes(change.stdout)}`);
if (/✓ install-os/.test(change.stdout)) throw new Error('the one-package change re-ran install-os');
rmSync(dir, { recursive: true, force: true });
