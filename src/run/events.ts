// RunEvent: the only channel from the runner to the UI (STYLE.md §1). Data only.
import type { ProgressUpdate } from '../core/task.js';
import type { Cause } from '../plan/plan.js';
import type { JsonValue, StepFailure, StepId } from '../plan/step.js';

export type RunEvent =
  | { readonly type: 'run-started'; readonly total: number; readonly jobs: number }
  | { readonly type: 'step-skipped'; readonly id: StepId }
  | {
      readonly type: 'step-started';
      readonly id: StepId;
      readonly kind: string;
      readonly summary: string;
      readonly cause: Cause;
      readonly reasons: readonly string[];
    }
  | { readonly type: 'step-progress'; readonly id: StepId; readonly update: ProgressUpdate }
  | { readonly type: 'step-log'; readonly id: StepId; readonly line: string }
  /** Something the user should know that did not fail the step (a cache upload that failed). */
  | { readonly type: 'step-warning'; readonly id: StepId; readonly message: string }
  | {
      readonly type: 'step-succeeded';
      readonly id: StepId;
      readonly durationMs: number;
      readonly values: Readonly<Record<string, JsonValue>>;
    }
  | {
      readonly type: 'step-failed';
      readonly id: StepId;
      readonly durationMs: number;
      readonly failure: StepFailure;
      readonly logPath: string;
    }
  | { readonly type: 'step-canceled'; readonly id: StepId; readonly logPath: string }
  | { readonly type: 'step-blocked'; readonly id: StepId; readonly reasons: readonly string[] }
  | { readonly type: 'run-finished'; readonly outcome: RunOutcome; readonly summary: RunSummary };

export type RunOutcome = 'ok' | 'failed' | 'canceled';

export interface RunSummary {
  readonly ran: readonly StepId[];
  /** Restored from the step cache instead of run. */
  readonly restored: readonly StepId[];
  readonly upToDate: readonly StepId[];
  readonly failed: readonly StepId[];
  readonly blocked: readonly StepId[];
  readonly canceled: readonly StepId[];
  readonly durationMs: number;
}

export type EventSink = (event: RunEvent) => void;
