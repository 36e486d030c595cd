// Step failures for people: step id, what went wrong, the command, exit status, the last
// lines of its output and the full log's path (STYLE.md §4).
import type { StepFailure } from '../../plan/step.js';

/** The report of one failed step, ending with a newline. */
export function formatStepFailure(id: string, failure: StepFailure, logPath: string): string {
  const lines = [`✗ step ${id} failed: ${failure.message}`];
  if (failure.command !== undefined) lines.push(`  command: ${failure.command}`);
  if (failure.exitCode !== undefined) lines.push(`  exit status: ${failure.exitCode}`);
  if (failure.signal !== undefined) lines.push(`  killed by: ${failure.signal}`);
  const tail = failure.outputTail ?? [];
  if (tail.length > 0) {
    lines.push(`  last output:`);
    for (const line of tail.slice(-20)) lines.push(`    ${line}`);
  }
  lines.push(`  full log: ${logPath}`);
  return `${lines.join('\n')}\n`;
}
