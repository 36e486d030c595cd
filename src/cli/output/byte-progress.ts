// Progress of a long byte-counting operation (bundling, unbundling) on stderr: one line
// rewritten in place on a terminal, or a plain line every 10% otherwise. Small inputs
// print nothing.
import type { ProgressUpdate } from '../../core/task.js';
import type { Terminal } from './terminal.js';

export interface ByteProgress {
  readonly update: (update: ProgressUpdate) => void;
  /** Ends the progress line (call once, success or not). */
  readonly end: () => void;
}

/** Below this many bytes no progress is shown. */
const MIN_TOTAL = 64 * 1024 * 1024;

/** Bytes as people read them: 1.5 GiB, 300 MiB, 12 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? String(value) : value.toFixed(value < 10 ? 1 : 0)} ${units[unit] ?? 'B'}`;
}

export function byteProgress(
  terminal: Terminal,
  options: { readonly label: string; readonly enabled: boolean; readonly now?: () => number },
): ByteProgress {
  const now = options.now ?? Date.now;
  const started = now();
  let lastDecile = -1;
  let drawn = false;
  const line = (update: ProgressUpdate, total: number): string => {
    const percent = Math.floor((update.done / total) * 100);
    const seconds = Math.max(0.001, (now() - started) / 1000);
    const rate = update.done / seconds / 1e6;
    return `${options.label}: ${String(percent).padStart(3)}%  ${formatBytes(update.done)} of ${formatBytes(total)}  ${rate.toFixed(0)} MB/s`;
  };
  return {
    update: (update) => {
      const total = update.total;
      if (!options.enabled || update.unit !== 'bytes' || total === undefined || total < MIN_TOTAL)
        return;
      if (terminal.isTty) {
        terminal.err(`\r${line(update, total)}\u001b[K`);
        drawn = true;
        return;
      }
      const decile = Math.floor((update.done / total) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        terminal.err(`${line(update, total)}\n`);
      }
    },
    end: () => {
      if (drawn) terminal.err('\n');
      drawn = false;
    },
  };
}
