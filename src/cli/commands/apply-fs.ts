// apply's work-directory chores: reporting a file-system error the user must fix (exit 1,
// naming the path), tidying an empty work directory a refused apply made, and paths shown
// relative to the current directory. No decisions about the run.
import { rmdir } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { describeFsFailure, fsFailureOf, type FsFailure } from '../../core/fs-failure.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';

/** Removes `dir` and its parents up to `top` (the first directory mkdir created), while empty. */
export async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (or gone): stop here
    }
    if (current === top || dirname(current) === current) return;
  }
}

/**
 * Prints a file-system error the user must fix (read-only, full, quota, permissions)
 * and returns exit 1; any other error is rethrown as the bug it is.
 */
export function reportFsError(
  terminal: Terminal,
  error: unknown,
  path: string,
  action: string,
): ExitCode {
  const failure = fsFailureOf(error, path);
  if (!failure) throw error;
  return printFsFailure(terminal, failure, action);
}

export function printFsFailure(terminal: Terminal, failure: FsFailure, action: string): ExitCode {
  terminal.err(
    `error: ${describeFsFailure(failure, { action, elsewhere: 'use another work directory (--work-dir DIR)' })}\n`,
  );
  return EXIT.failure;
}

/** `path` relative to the current directory, unless that climbs out of it. */
export function relativeToCwd(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
