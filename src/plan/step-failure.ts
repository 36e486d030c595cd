// Turning tool failures into step failures (plan/step.ts StepFailure): the command,
// exit code, output tail, and a sentence that says what to do next. Pure.
import { describeToolFailure, type ToolFailure } from '../core/failure.js';
import type { StepFailure } from './step.js';

/**
 * A StepFailure for a tool that did not succeed. `doing` says what the step was
 * doing ("creating the disk"); `hint`, what the user can do about it.
 */
export function toolStepFailure(failure: ToolFailure, doing: string, hint?: string): StepFailure {
  const tail = [...failure.stdoutTail.slice(-5), ...failure.stderrTail].slice(-20);
  const installHint =
    failure.reason === 'spawn-error' && failure.code === 'ENOENT'
      ? ` Install it (see \`emi-recipe doctor\` for the package).`
      : '';
  const next = failure.reason === 'canceled' ? '' : (hint ? ` ${hint}` : '') + installHint;
  return {
    reason: failure.reason === 'canceled' ? 'canceled' : `tool-${failure.reason}`,
    message: `${doing}: ${describeToolFailure(failure)}.${next}`,
    command: failure.command,
    ...(failure.reason === 'exit-non-zero' ? { exitCode: failure.exitCode } : {}),
    ...(failure.reason === 'signal' ? { signal: failure.signal } : {}),
    outputTail: tail,
  };
}

/** A StepFailure that is not about a tool: a fact the step found wrong, and what to do. */
export function stepFailure(
  reason: string,
  message: string,
  extra: Partial<StepFailure> = {},
): StepFailure {
  return { reason, message, ...extra };
}

/** The message of an unexpected file-system error (EACCES, ENOSPC…) for a StepFailure. */
export function ioStepFailure(error: unknown, doing: string): StepFailure {
  const e = error as NodeJS.ErrnoException | undefined;
  const what = e?.code ? `${e.code}${e.path ? ` (${e.path})` : ''}` : String(error);
  return {
    reason: 'io-error',
    message: `${doing}: ${what}. Check free space and permissions of the work directory.`,
  };
}

export const CANCELED: StepFailure = { reason: 'canceled', message: 'stopped (interrupted)' };
