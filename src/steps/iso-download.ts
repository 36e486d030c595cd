// Fetching install.iso.url into the cache directory, keyed by its pinned SHA-256, so a
// second build (or another recipe using the same ISO) reuses it. HTTP(S) with Node's
// fetch; written to a .part file and renamed only when complete and verified.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { err, ok, type Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { StepFailure } from '../plan/step.js';
import { cacheDir, makeCacheDir } from '../core/cache-dir.js';
import { fsFailureOf } from '../core/fs-failure.js';
import { CANCELED, fsStepFailure, stepFailure } from '../plan/step-failure.js';

/** Where an ISO with this digest is kept. */
export function cachedIsoPath(
  sha256: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return join(cacheDir(env), 'isos', `${sha256.toLowerCase()}.iso`);
}

/**
 * The local path of the ISO at `url`: the cached copy when present, else downloaded and
 * checked against `sha256` first (a mismatch is deleted and reported).
 */
export async function downloadIso(
  ctx: TaskContext,
  options: {
    readonly url: string;
    readonly sha256: string;
    readonly env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<Result<string, StepFailure>> {
  const target = cachedIsoPath(options.sha256, options.env);
  if (
    await stat(target).then(
      (s) => s.isFile(),
      () => false,
    )
  ) {
    ctx.log(`ISO: ${target} (downloaded before)`);
    return ok(target);
  }
  const dir = await makeCacheDir(dirname(target));
  if (!dir.ok)
    return err(fsStepFailure(dir.error, 'write the cache directory', { place: 'cache-dir' }));
  const part = `${target}.part-${process.pid}`;
  ctx.log(`downloading ${options.url}`);
  try {
    const response = await fetch(options.url, { signal: ctx.signal });
    if (!response.ok || !response.body)
      return err(
        stepFailure(
          'input',
          'iso-download-failed',
          `downloading ${options.url} failed: HTTP ${response.status} ${response.statusText}`,
          { hint: 'Check install.iso.url.' },
        ),
      );
    const total = Number(response.headers.get('content-length') ?? 0) || undefined;
    const hash = createHash('sha256');
    let done = 0;
    let reported = 0;
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      done += chunk.length;
      if (done - reported > 16 * 2 ** 20) {
        reported = done;
        ctx.progress({
          done,
          ...(total ? { total } : {}),
          unit: 'bytes',
          message: 'downloading the ISO',
        });
      }
    });
    await pipeline(body, createWriteStream(part), { signal: ctx.signal });
    const digest = hash.digest('hex');
    if (digest !== options.sha256.toLowerCase()) {
      await rm(part, { force: true });
      return err(
        stepFailure(
          'input',
          'iso-checksum-mismatch',
          `the ISO downloaded from ${options.url} has SHA-256 ${digest}, the recipe expects ${options.sha256}: the mirror serves another file (a newer point release?)`,
          { hint: 'Update install.iso.url or install.iso.sha256. Nothing was booted.' },
        ),
      );
    }
    await rename(part, target);
    return ok(target);
  } catch (error) {
    await rm(part, { force: true });
    if (ctx.signal.aborted) return err(CANCELED);
    // A full cache disk is not a network problem: say where, and how to move the cache.
    const full = fsFailureOf(error, dirname(target));
    if (full)
      return err(
        fsStepFailure(full, `download ${options.url} into`, {
          doing: 'downloading the ISO',
          place: 'cache-dir',
        }),
      );
    const cause = networkCause(error);
    if (cause === undefined) throw error; // not the network, not the disk: a bug
    return err(
      stepFailure('input', 'iso-download-failed', `downloading ${options.url} failed: ${cause}`, {
        hint: 'Check the URL and the network, or download it yourself and give install.iso.path.',
      }),
    );
  }
}

/**
 * What went wrong on the network, or undefined when `error` is not a network error.
 * Node's fetch (undici) rejects with a TypeError ("fetch failed", "Failed to parse URL",
 * or "terminated" when the body breaks off) whose `cause` holds the socket, DNS or URL
 * error (https://undici.nodejs.org/#/docs/api/Errors); a socket error may also come
 * bare, with an UND_ERR_ or connection errno code. Checked by shape, not instanceof:
 * these errors come from Node's own realm.
 */
export function networkCause(error: unknown): string | undefined {
  if (!isErrorLike(error)) return undefined;
  if (error.name === 'TypeError') {
    if (isErrorLike(error.cause)) return error.cause.message;
    if (/^(fetch failed|terminated)$/.test(error.message)) return error.message;
    return undefined;
  }
  const code = error.code;
  if (
    typeof code === 'string' &&
    /^(UND_ERR_|E(CONN|HOST|NET|AI_|TIMEDOUT|PIPE|NOTFOUND))/.test(code)
  )
    return error.message;
  return undefined;
}

function isErrorLike(x: unknown): x is {
  readonly name: string;
  readonly message: string;
  readonly cause?: unknown;
  readonly code?: unknown;
} {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as { name?: unknown }).name === 'string' &&
    typeof (x as { message?: unknown }).message === 'string'
  );
}
