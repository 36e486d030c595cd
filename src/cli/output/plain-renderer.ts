// Progress as plain timestamped lines: for CI, pipes and --no-progress. Renders RunEvents.
import { formatDuration, formatSize } from '../../recipe/units.js';
import type { RunEvent } from '../../run/events.js';
import { describeStepFailure } from '../../plan/step-failure.js';
import type { Terminal } from './terminal.js';

export interface PlainRendererOptions {
  /** Also print every line of tool output (--verbose). */
  readonly verbose: boolean;
  readonly now?: () => Date;
}

/** An event sink that writes one line per noteworthy event. Progress is throttled to one line per step every 10 s. */
export function plainRenderer(
  terminal: Terminal,
  options: PlainRendererOptions,
): (event: RunEvent) => void {
  const now = options.now ?? (() => new Date());
  const lastProgress = new Map<string, number>();
  const line = (text: string): void => {
    terminal.out(`${now().toISOString().slice(11, 19)} ${text}\n`);
  };
  return (event) => {
    switch (event.type) {
      case 'run-started':
        line(`apply: ${event.total} steps, up to ${event.jobs} at a time`);
        break;
      case 'step-skipped':
        line(`= ${event.id}: up to date`);
        break;
      case 'step-started':
        lastProgress.set(event.id, now().getTime());
        line(
          `▸ ${event.id}: ${event.summary || event.kind}${event.cause === 'up-to-date' ? '' : ` (${event.reasons[0] ?? event.cause})`}`,
        );
        break;
      case 'step-progress': {
        const t = now().getTime();
        if (t - (lastProgress.get(event.id) ?? 0) < 10_000) break;
        lastProgress.set(event.id, t);
        const u = event.update;
        const amount =
          u.unit === 'bytes'
            ? `${formatSize(u.done)}${u.total !== undefined ? ` of ${formatSize(u.total)}` : ''}`
            : u.unit === 'percent'
              ? `${Math.round(u.done)}%`
              : `${u.done}${u.total !== undefined ? `/${u.total}` : ''}`;
        line(`  ${event.id}: ${amount}${u.message ? ` ${u.message}` : ''}`);
        break;
      }
      case 'step-warning': // apply prints warnings after the run (cli/commands/apply.ts)
        break;
      case 'step-log':
        if (options.verbose) line(`  ${event.id}| ${event.line}`);
        break;
      case 'step-succeeded':
        line(`✓ ${event.id} (${formatDuration(event.durationMs)})${valuesText(event.values)}`);
        break;
      case 'step-failed':
        line(
          `✗ ${event.id} failed after ${formatDuration(event.durationMs)}: ${describeStepFailure(event.failure)}`,
        );
        break;
      case 'step-canceled':
        line(`■ ${event.id}: stopped`);
        break;
      case 'step-blocked':
        line(`! ${event.id}: blocked: ${event.reasons.join('; ')}`);
        break;
      case 'run-finished':
        break;
    }
  };
}

function valuesText(values: Readonly<Record<string, unknown>>): string {
  const shown = Object.entries(values).filter(
    ([, v]) => typeof v === 'string' && /^e[kmr]i-[0-9a-f]+$/.test(v),
  );
  return shown.length > 0 ? `: ${shown.map(([k, v]) => `${k}=${String(v)}`).join(' ')}` : '';
}
