// `emi-recipe status`: what is done in the work directory, with outputs such as image ids.
import { existsSync } from 'node:fs';
import { unreachable } from '../../core/unreachable.js';
import type { JsonValue } from '../../plan/step.js';
import { formatDuration } from '../../recipe/units.js';
import { lockPath, partialDir } from '../../run/layout.js';
import { readLock, type LockState } from '../../run/lock.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';
import { openSession } from './session.js';

const SHOWN_VALUES = ['imageId', 'kernelVersion', 'buildId', 'loginSeconds', 'accel'];

export interface StatusOptions {
  readonly json: boolean;
  readonly workDir?: string;
}

export async function runStatus(
  recipeFile: string,
  options: StatusOptions,
  deps: { terminal: Terminal; env: Readonly<Record<string, string | undefined>> },
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: false,
    terminal: deps.terminal,
    ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
  });
  if (!session) return exit ?? EXIT.usage;
  // The lock's holder is checked like apply checks it: a dead process holds nothing.
  const lock = await readLock(session.workDir).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { state: 'unreadable' as const, code };
  });
  const running = lock.state === 'held';
  const rows = session.graph.steps.map((step) => {
    const record = session.state.steps[step.id];
    const interrupted = !record && existsSync(partialDir(session.workDir, step.id));
    return {
      id: step.id,
      kind: step.kind,
      state: record ? 'done' : interrupted ? 'interrupted' : 'not done',
      finishedAt: record?.finishedAt ?? null,
      durationMs: record ? Date.parse(record.finishedAt) - Date.parse(record.startedAt) : null,
      values: record?.values ?? {},
      artifacts: record
        ? Object.fromEntries(
            Object.entries(record.artifacts).map(([n, a]) => [n, { file: a.file, size: a.size }]),
          )
        : {},
    };
  });
  const images = Object.fromEntries(
    (['kernel', 'ramdisk', 'machine'] as const).map((t) => [
      t,
      session.state.steps[`register-${t}`]?.values.imageId ?? null,
    ]),
  );
  if (options.json) {
    deps.terminal.out(
      `${JSON.stringify({ recipe: session.recipe.name, workDir: session.workDir, running, lock: lockJson(lock), images, steps: rows }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  const t = deps.terminal;
  t.out(`${session.recipe.name}: work directory ${session.workDir}\n`);
  const lockLine = describeLock(lock, lockPath(session.workDir));
  if (lockLine !== undefined) t.out(`${lockLine}\n`);
  const width = Math.max(...rows.map((r) => r.id.length));
  for (const row of rows) {
    const mark = row.state === 'done' ? '✓' : row.state === 'interrupted' ? '■' : '·';
    const when =
      row.finishedAt !== null
        ? `  ${row.finishedAt.replace('T', ' ').slice(0, 19)}  (${formatDuration(row.durationMs ?? 0)})`
        : '';
    // The outputs people look for; --json has them all.
    const values = Object.entries(row.values)
      .flatMap(([k, v]) =>
        SHOWN_VALUES.includes(k) && (typeof v === 'string' || typeof v === 'number')
          ? [`${k}=${shorten(String(v))}`]
          : [],
      )
      .join(' ');
    t.out(
      `  ${mark} ${row.id.padEnd(width)}  ${row.state.padEnd(11)}${when}${values ? `  ${values}` : ''}\n`,
    );
  }
  const done = rows.filter((r) => r.state === 'done').length;
  t.out(`${done} of ${rows.length} steps done.`);
  const ids = Object.entries(images).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${k} ${v}`] : [],
  );
  t.out(ids.length > 0 ? ` Images: ${ids.join(', ')}\n` : '\n');
  return EXIT.ok;
}

/** Long values (digests) cut to their first 12 characters. */
function shorten(value: string): string {
  return value.length > 24 ? `${value.slice(0, 12)}…` : value;
}

type LockView = LockState | { readonly state: 'unreadable'; readonly code: string };

/** The lock in one sentence, or undefined when there is none. */
function describeLock(lock: LockView, path: string): string | undefined {
  switch (lock.state) {
    case 'free':
      return undefined;
    case 'held': {
      const h = lock.holder;
      return `An apply holds the lock: pid ${h.pid} on ${h.host}, since ${h.since} (${h.command}).`;
    }
    case 'stale':
      return lock.holder
        ? `A stale lock was left by pid ${lock.holder.pid} (${lock.holder.command}, since ${lock.holder.since}), which is no longer running; the next apply takes it over.`
        : `A stale lock ${path} is empty or unreadable (its writer was interrupted); the next apply takes it over.`;
    case 'unreadable':
      return `The lock ${path} cannot be read (${lock.code}).`;
    default:
      return unreachable(lock);
  }
}

/** The lock for --json: its state, and the holder when known. */
function lockJson(lock: LockView): JsonValue {
  switch (lock.state) {
    case 'free':
      return null;
    case 'held':
    case 'stale':
      return { state: lock.state, holder: lock.holder ? { ...lock.holder } : null };
    case 'unreadable':
      return { state: 'unreadable', holder: null };
    default:
      return unreachable(lock);
  }
}
