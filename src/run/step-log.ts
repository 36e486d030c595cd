// A step's log file (<workDir>/logs/<step>.log): created before the step starts, written
// line by line while it runs. Owns only the file; what goes in it is the runner's business.
import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { err, ok, type Result } from '../core/result.js';

export interface StepLog {
  write(text: string): void;
  close(): Promise<void>;
}

/** Where a step's lines go when its log could not be created (the step then fails). */
export const NO_LOG: StepLog = { write: () => undefined, close: () => Promise.resolve() };

/**
 * Creates (truncates) a step's log. Opening is awaited so that a read-only or full work
 * directory fails the step with the log's path instead of losing the log silently;
 * later write errors (the disk filling up mid-step) only cut the log short.
 */
export async function openLog(path: string): Promise<Result<StepLog, unknown>> {
  let handle;
  try {
    handle = await open(path, 'w', 0o644);
  } catch (error) {
    return err(error);
  }
  const stream: WriteStream = handle.createWriteStream();
  stream.on('error', () => undefined);
  return ok({
    write: (text) => {
      stream.write(text);
    },
    close: () =>
      new Promise((resolve) => {
        // A stream destroyed by a write error has closed already; end() would not call back.
        if (stream.destroyed) resolve();
        else
          stream.end(() => {
            resolve();
          });
      }),
  });
}
