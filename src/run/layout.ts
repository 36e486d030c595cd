// The work directory's layout. One place for every path so nothing else guesses.
//
//   <workDir>/state.json                 checkpoints (run/state.ts)
//   <workDir>/lock                       held by a running apply (run/lock.ts)
//   <workDir>/logs/<step>.log            each step's full log
//   <workDir>/artifacts/<step>/          a finished step's artifacts
//   <workDir>/artifacts/<step>.partial/  a running (or interrupted) step's output
import { dirname, join, resolve } from 'node:path';

/** The default work directory of a recipe: `.emi-recipe/<name>/` beside the recipe file. */
export function defaultWorkDir(recipePath: string, name: string): string {
  return join(dirname(resolve(recipePath)), '.emi-recipe', name);
}

export function artifactsRoot(workDir: string): string {
  return join(workDir, 'artifacts');
}

/** Final directory of a step's artifacts. */
export function stepDir(workDir: string, stepId: string): string {
  return join(workDir, 'artifacts', stepId);
}

/** Where a running step writes; renamed to stepDir() on success. */
export function partialDir(workDir: string, stepId: string): string {
  return join(workDir, 'artifacts', `${stepId}.partial`);
}

export function logsDir(workDir: string): string {
  return join(workDir, 'logs');
}

export function logPath(workDir: string, stepId: string): string {
  return join(workDir, 'logs', `${stepId}.log`);
}

export function lockPath(workDir: string): string {
  return join(workDir, 'lock');
}
