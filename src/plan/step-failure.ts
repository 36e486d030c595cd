// Step failures (plan/step.ts StepFailure): building them from what a step met (a tool
// failure, a file-system errno, a finding) and the one sentence each makes. Pure.
// Only expected errors become failures here: anything else is rethrown, as the bug it is.
import { describeToolFailure, type ToolFailure } from '../core/failure.js';
import { describeFsFailure, fsFailureOf, type FsFailure } from '../core/fs-failure.js';
import { unreachable } from '../core/unreachable.js';
import type {
  CanceledStepFailure,
  FindingStepFailure,
  FsStepFailure,
  StepFailure,
  ToolStepFailure,
} from './step.js';

export const CANCELED: CanceledStepFailure = { kind: 'canceled', reason: 'canceled' };

/**
 * A StepFailure for a tool that did not succeed. `doing` says what the step was
 * doing ("creating the disk"); `hint`, what the user can do about it. A canceled tool
 * is a canceled step.
 */
export function toolStepFailure(
  failure: ToolFailure,
  doing: string,
  hint?: string,
): ToolStepFailure | CanceledStepFailure {
  const base = {
    kind: 'tool',
    doing,
    tool: failure.file,
    command: failure.command,
    stderrTail: failure.stderrTail,
    stdoutTail: failure.stdoutTail,
    ...(hint !== undefined ? { hint } : {}),
  } as const;
  switch (failure.reason) {
    case 'canceled':
      return CANCELED;
    case 'spawn-error':
      return { ...base, reason: 'tool-spawn-error', spawnCode: failure.code };
    case 'exit-non-zero':
      return { ...base, reason: 'tool-exit-non-zero', exitCode: failure.exitCode };
    case 'signal':
      return { ...base, reason: 'tool-signal', signal: failure.signal };
    case 'timeout':
      return { ...base, reason: 'tool-timeout', timeoutMs: failure.timeoutMs };
    default:
      return unreachable(failure);
  }
}

/**
 * A fact the step found wrong (see FindingStepFailure for the kinds): `detail` in
 * words, `extra` for a hint, the path or a command and its output.
 */
export function stepFailure(
  kind: FindingStepFailure['kind'],
  reason: string,
  detail: string,
  extra: Omit<FindingStepFailure, 'kind' | 'reason' | 'detail'> = {},
): FindingStepFailure {
  return { kind, reason, detail, ...extra };
}

/**
 * A file-system failure (from core/fs-failure.ts fsFailureOf) as a step failure: `action`
 * is the verb phrase ("write"), `place` where the path is (work directory by default).
 */
export function fsStepFailure(
  failure: FsFailure,
  action: string,
  options: { readonly doing?: string; readonly place?: FsStepFailure['place'] } = {},
): FsStepFailure {
  return {
    kind: 'fs',
    reason: 'io-error',
    code: failure.code,
    path: failure.path,
    action,
    ...(options.doing !== undefined ? { doing: options.doing } : {}),
    place: options.place ?? 'work-dir',
  };
}

/**
 * For a step's `catch`: the FsStepFailure when `error` is a file-system error the user
 * must fix (ENOSPC, EDQUOT, EROFS, EACCES, EPERM), naming `path` (default: the error's
 * own path, else `fallbackPath`: a failed write(2) names no file, so the place the step
 * writes in); any other error is rethrown unchanged, so that a bug reaches the runner's
 * internal-error path instead of reading as "check free space".
 */
export function fsStepFailureOrRethrow(
  error: unknown,
  options: { readonly doing: string; readonly path?: string; readonly fallbackPath?: string },
): FsStepFailure {
  const failure = fsFailureOf(error, options.path, options.fallbackPath);
  if (!failure) throw error;
  const action = failure.code === 'EACCES' || failure.code === 'EPERM' ? 'access' : 'write';
  return fsStepFailure(failure, action, { doing: options.doing });
}

/** A thrown exception (a bug) as a step failure: its message, and its stack to show. */
export function internalStepFailure(error: unknown): FindingStepFailure {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? (error.stack ?? message) : message;
  return stepFailure('internal', 'internal-error', message, {
    outputTail: stack.split('\n').slice(0, 20),
  });
}

/** `text` as a sentence: ends with a full stop unless it ends with one already. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The hint to install a program that could not be found. */
const INSTALL_HINT = 'Install it (see `emi-recipe doctor` for the package).';

/** Where to turn when the file system of that place is the problem. */
const ELSEWHERE: Readonly<Record<FsStepFailure['place'], string>> = {
  'work-dir': 'use another work directory (--work-dir DIR)',
  'cache-dir': 'point EMI_RECIPE_CACHE_DIR at a writable directory',
};

/**
 * What went wrong and what to do next, in one or two sentences: the only place that
 * turns a StepFailure's facts into words (cli/output's report and the step log use it).
 */
export function describeStepFailure(failure: StepFailure): string {
  switch (failure.kind) {
    case 'tool': {
      const tool = toToolFailure(failure);
      const hints = [
        ...(failure.hint !== undefined ? [sentence(failure.hint)] : []),
        ...(failure.reason === 'tool-spawn-error' && failure.spawnCode === 'ENOENT'
          ? [INSTALL_HINT]
          : []),
      ];
      return [`${failure.doing}: ${describeToolFailure(tool)}.`, ...hints].join(' ');
    }
    case 'fs': {
      const text = describeFsFailure(
        { reason: 'fs-error', code: failure.code, path: failure.path },
        { action: failure.action, elsewhere: ELSEWHERE[failure.place] },
      );
      const doing = failure.doing !== undefined ? `${failure.doing}: ` : '';
      return `${doing}${text} Finished steps are kept; run the same command again to resume.`;
    }
    case 'internal':
      return `internal error: ${sentence(failure.detail)} This is a bug in emi-recipe: please report it with the command, its output and the step's log.`;
    case 'guest':
    case 'input':
    case 'host':
    case 'cloud':
      return [sentence(failure.detail), ...(failure.hint ? [sentence(failure.hint)] : [])].join(
        ' ',
      );
    case 'canceled':
      return 'stopped (interrupted)';
    default:
      return unreachable(failure);
  }
}

/** The ToolFailure the facts came from, for core/failure.ts's wording. */
function toToolFailure(f: ToolStepFailure): ToolFailure {
  const base = {
    file: f.tool,
    command: f.command,
    stderrTail: f.stderrTail,
    stdoutTail: f.stdoutTail,
  };
  switch (f.reason) {
    case 'tool-spawn-error':
      return { ...base, reason: 'spawn-error', code: f.spawnCode };
    case 'tool-exit-non-zero':
      return { ...base, reason: 'exit-non-zero', exitCode: f.exitCode };
    case 'tool-signal':
      return { ...base, reason: 'signal', signal: f.signal };
    case 'tool-timeout':
      return { ...base, reason: 'timeout', timeoutMs: f.timeoutMs };
    default:
      return unreachable(f);
  }
}
