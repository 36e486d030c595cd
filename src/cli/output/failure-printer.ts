// Step failures for people: step id, what went wrong and what to do (the sentence from
// plan/step-failure.ts), then the facts worth a look: the command, exit status or
// signal, the path, the last lines of output and the full log's path (STYLE.md §4).
import type { StepFailure } from '../../plan/step.js';
import { describeStepFailure } from '../../plan/step-failure.js';
import { unreachable } from '../../core/unreachable.js';

/** Output lines shown at most. */
const TAIL_LINES = 20;

/** The report of one failed step, ending with a newline. */
export function formatStepFailure(id: string, failure: StepFailure, logPath: string): string {
  const lines = [`✗ step ${id} failed: ${describeStepFailure(failure)}`];
  for (const [label, value] of factLines(failure)) lines.push(`  ${label}: ${value}`);
  const tail = outputTail(failure);
  if (tail.length > 0) {
    lines.push(failure.kind === 'internal' ? '  stack:' : '  last output:');
    for (const line of tail) lines.push(`    ${line}`);
  }
  lines.push(`  full log: ${logPath}`);
  return `${lines.join('\n')}\n`;
}

/** The labelled facts below the sentence, in a fixed order. */
function factLines(failure: StepFailure): [string, string][] {
  switch (failure.kind) {
    case 'tool': {
      const lines: [string, string][] = [['command', failure.command]];
      if (failure.reason === 'tool-exit-non-zero')
        lines.push(['exit status', String(failure.exitCode)]);
      if (failure.reason === 'tool-signal') lines.push(['killed by', failure.signal]);
      return lines;
    }
    case 'fs':
      return [];
    case 'guest':
    case 'input':
    case 'host':
    case 'cloud':
    case 'internal': {
      const lines: [string, string][] = [];
      if (failure.path !== undefined) lines.push(['path', failure.path]);
      if (failure.command !== undefined) lines.push(['command', failure.command]);
      if (failure.exitCode !== undefined) lines.push(['exit status', String(failure.exitCode)]);
      return lines;
    }
    case 'canceled':
      return [];
    default:
      return unreachable(failure);
  }
}

/** The last lines of output: stdout's last 5 then stderr, for a tool; at most TAIL_LINES. */
function outputTail(failure: StepFailure): readonly string[] {
  switch (failure.kind) {
    case 'tool':
      return [...failure.stdoutTail.slice(-5), ...failure.stderrTail].slice(-TAIL_LINES);
    case 'guest':
    case 'input':
    case 'host':
    case 'cloud':
      return (failure.outputTail ?? []).slice(-TAIL_LINES);
    case 'internal':
      return (failure.outputTail ?? []).slice(0, TAIL_LINES);
    case 'fs':
    case 'canceled':
      return [];
    default:
      return unreachable(failure);
  }
}
