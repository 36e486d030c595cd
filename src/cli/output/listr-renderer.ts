// Progress on a terminal with listr2: one line per step with its state, elapsed time and
// bytes/percent. listr2 only renders RunEvents; it never owns signals or exit codes
// (registerSignalListeners: false, see listr2 src/listr.ts).
import { Listr, type ListrTaskWrapper } from 'listr2';
import { formatDuration, formatSize } from '../../recipe/units.js';
import type { RunEvent } from '../../run/events.js';
import type { StepId } from '../../plan/step.js';
import { describeStepFailure } from '../../plan/step-failure.js';

interface Slot {
  resolve: () => void;
  reject: (error: Error) => void;
  task?: ListrTaskWrapper<unknown, never, never>;
  startedAt?: number;
  progress?: string;
  finished: boolean;
}

/** A sink that drives a listr2 list, and `done()` to wait for its last frame. */
export function listrRenderer(
  steps: readonly StepId[],
  options: { verbose: boolean },
): { sink: (event: RunEvent) => void; done: () => Promise<void> } {
  const slots = new Map<StepId, Slot>();
  const skipped = new Set<StepId>();
  const blocked = new Map<StepId, string>();
  const tasks = steps.map((id) => ({
    title: `${id}: waiting`,
    task: (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) =>
      new Promise<void>((resolve, reject) => {
        const slot: Slot = slots.get(id) ?? { resolve, reject, finished: false };
        slot.resolve = resolve;
        slot.reject = reject;
        slot.task = task;
        slots.set(id, slot);
        if (skipped.has(id)) {
          task.skip(`${id}: up to date`);
          resolve();
        } else if (blocked.has(id)) {
          reject(new Error(`${id}: blocked: ${blocked.get(id) ?? ''}`));
        }
      }),
  }));
  const list = new Listr(tasks as never, {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    rendererOptions: { collapseErrors: false, showErrorMessage: true, timer: undefined },
  });
  const running = list.run().catch(() => undefined);
  const timer = setInterval(() => {
    for (const [id, slot] of slots) {
      if (slot.task && slot.startedAt !== undefined && !slot.finished) {
        slot.task.title = `${id} (${formatDuration(Date.now() - slot.startedAt)})${slot.progress ? ` ${slot.progress}` : ''}`;
      }
    }
  }, 500);
  const sink = (event: RunEvent): void => {
    if (event.type === 'run-started' || event.type === 'run-finished') {
      if (event.type === 'run-finished') {
        clearInterval(timer);
        for (const [id, slot] of slots) {
          if (!slot.finished) {
            slot.finished = true;
            slot.task?.skip(`${id}: not run`);
            slot.resolve();
          }
        }
      }
      return;
    }
    const slot = slots.get(event.id);
    switch (event.type) {
      case 'step-skipped':
        skipped.add(event.id);
        if (slot?.task) {
          slot.finished = true;
          slot.task.skip(`${event.id}: up to date`);
          slot.resolve();
        }
        break;
      case 'step-started':
        if (slot?.task) {
          slot.startedAt = Date.now();
          slot.task.title = `${event.id}: ${event.summary || event.kind}`;
        }
        break;
      case 'step-progress': {
        if (!slot) break;
        const u = event.update;
        slot.progress =
          u.unit === 'bytes'
            ? `${formatSize(u.done)}${u.total !== undefined ? ` / ${formatSize(u.total)}` : ''}`
            : u.unit === 'percent'
              ? `${Math.round(u.done)}%`
              : `${u.done}${u.total !== undefined ? `/${u.total}` : ''}`;
        if (u.message) slot.progress += ` ${u.message}`;
        break;
      }
      case 'step-warning': // apply prints warnings after the run (cli/commands/apply.ts)
        break;
      case 'step-log':
        if (options.verbose && slot?.task) slot.task.output = event.line;
        break;
      case 'step-succeeded':
        if (slot?.task) {
          slot.finished = true;
          slot.task.title = `${event.id} (${formatDuration(event.durationMs)})`;
          slot.resolve();
        }
        break;
      case 'step-failed':
        if (slot) {
          slot.finished = true;
          slot.reject(new Error(`${event.id}: ${describeStepFailure(event.failure)}`));
        }
        break;
      case 'step-canceled':
        if (slot) {
          slot.finished = true;
          slot.reject(new Error(`${event.id}: stopped`));
        }
        break;
      case 'step-blocked':
        blocked.set(event.id, event.reasons.join('; '));
        if (slot?.task) {
          slot.finished = true;
          slot.reject(new Error(`${event.id}: blocked: ${event.reasons.join('; ')}`));
        }
        break;
    }
  };
  return {
    sink,
    done: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
