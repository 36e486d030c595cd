// ISA-L's igzip (package isal) as the step cache's gzip: the same gzip format as zlib at a
// fifth of its CPU time for level 1, and a quarter for inflating. Optional: sparse-gzip.ts
// falls back to zlib when it is not installed. Input comes from an async iterable, output
// goes to a file or a sink; errors of the caller's reads and writes are thrown as they were,
// never reported as igzip's.
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import type { Exec } from '../tools/exec.js';
import { findOnPath } from '../tools/tool-version.js';

let igzipFound: Promise<string | undefined> | undefined;
/** igzip's path on PATH, looked up once; undefined when not installed. */
export const igzipPath = (): Promise<string | undefined> => (igzipFound ??= findOnPath('igzip'));

/**
 * Runs igzip on `input`, with the caller's errors kept apart: a throw from `input` or from
 * `write` (the caller's file reads and writes) stops igzip and is rethrown as it was. Returns
 * igzip's own failure, or undefined when it succeeded or `signal` aborted.
 */
async function runIgzip(
  igzip: string,
  args: readonly string[],
  exec: Exec,
  input: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  output: { readonly file: string } | { readonly write: (chunk: Buffer) => Promise<void> },
): Promise<ToolFailure | undefined> {
  const stop = new AbortController();
  const onAbort = (): void => {
    stop.abort();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let failed: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failed ??= { error };
    stop.abort();
  };
  const guarded = async function* (): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of input) yield chunk;
    } catch (error) {
      fail(error);
    }
  };
  try {
    const r = await exec(igzip, [...args], {
      signal: stop.signal,
      input: guarded(),
      ...('file' in output
        ? { stdoutFile: output.file }
        : {
            stdoutSink: async (chunk: Buffer) => {
              if (failed !== undefined) return;
              try {
                await output.write(chunk);
              } catch (error) {
                fail(error);
              }
            },
          }),
    });
    if (failed !== undefined) throw failed.error;
    return r.ok || signal.aborted ? undefined : r.error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * `bytes` through `igzip -c` into `out` (created exclusively, mode 600, fsynced): level 1
 * when `level` is 1, else 2 (igzip's levels are 0–3). Throws what reading `bytes` threw;
 * igzip's own failure is the error. Nothing to say when `signal` aborted (the caller checks).
 */
export async function deflateWithIgzip(
  igzip: string,
  bytes: AsyncIterable<Uint8Array>,
  out: string,
  options: { readonly exec: Exec; readonly signal: AbortSignal; readonly level?: number },
): Promise<Result<void, ToolFailure>> {
  await (await open(out, 'wx', 0o600)).close();
  const level = options.level === 1 ? '-1' : '-2';
  const failure = await runIgzip(igzip, [level, '-c', '-q'], options.exec, bytes, options.signal, {
    file: out,
  });
  if (failure !== undefined) return err(failure);
  if (options.signal.aborted) return ok(undefined);
  const written = await open(out, 'r+');
  try {
    await written.sync();
  } finally {
    await written.close();
  }
  return ok(undefined);
}

/**
 * `gz` through `igzip -d`, its output given to `write` in order. Returns the compressed bytes
 * read. Throws the body's error (a dropped connection), `write`'s (the file system), an
 * abort, or, when igzip refuses the stream, an error with code Z_DATA_ERROR.
 */
export async function inflateWithIgzip(
  igzip: string,
  exec: Exec,
  gz: Readable,
  signal: AbortSignal,
  write: (chunk: Buffer) => Promise<void>,
): Promise<number> {
  let compressedBytes = 0;
  const body = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of gz) {
      compressedBytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  };
  const failure = await runIgzip(igzip, ['-d', '-c', '-q'], exec, body(), signal, { write });
  if (signal.aborted)
    throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
  if (failure !== undefined)
    throw Object.assign(new Error(`igzip: ${failure.stderrTail.at(-1) ?? failure.reason}`), {
      code: 'Z_DATA_ERROR',
    });
  return compressedBytes;
}
