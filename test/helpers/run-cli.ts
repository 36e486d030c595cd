// Runs the built CLI (bin/emi-recipe.js -> dist/) as a real process, with a scrubbed env.
import { spawnSync } from 'node:child_process';
import { repoPath } from './paths.js';

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without the caller's AWS_*, EC2_*, CI and colour settings (STYLE.md §7). */
export function scrubbedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'USER'];
  const env: Record<string, string> = { NO_COLOR: '1' };
  for (const name of keep) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `emi-recipe ...args` synchronously and returns its exit code and output. */
export function runBuiltCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): CliRun {
  const result = spawnSync(process.execPath, [repoPath('bin', 'emi-recipe.js'), ...args], {
    cwd: options.cwd ?? repoPath(),
    env: options.env ?? scrubbedEnv(),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return {
    code: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}
