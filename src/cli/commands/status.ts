// `emi-recipe status`: what is done in the work directory (or the shared store, with
// store.url or --store), with outputs such as image ids, and who holds the lock.
import { existsSync } from 'node:fs';
import { unreachable } from '../../core/unreachable.js';
import type { JsonValue } from '../../plan/step.js';
import { formatDuration } from '../../recipe/units.js';
import { lockPath, partialDir } from '../../run/layout.js';
import { readLock, type LockState } from '../../run/lock.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';
import { openSession, type Session } from './session.js';
import { describeStoreFailure } from '../../store/describe-store.js';
import { describeHolder } from '../../store/lock-holder.js';

const SHOWN_VALUES = ['imageId', 'kernelVersion', 'buildId', 'loginSeconds', 'accel'];

export interface StatusOptions {
  readonly json: boolean;
  readonly workDir?: string;
  /** `--store s3://…`: the state and lock of this shared store (overrides store.url). */
  readonly store?: string;
}

export async function runStatus(
  recipeFile: string,
  options: StatusOptions,
  deps: {
    terminal: Terminal;
    env: Readonly<Record<string, string | undefined>>;
    signal?: AbortSignal;
  },
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: false,
    terminal: deps.terminal,
    ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
    store: {
      ...(options.store !== undefined ? { flag: options.store } : {}),
      noLock: true,
      forWrite: false,
    },
    ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
  });
  if (!session) return exit ?? EXIT.usage;
  try {
    if (session.store?.remote === true) {
      // A shared store's lock: its holder, as the next apply would find it.
      const holder = await session.store.readLock();
      const held = holder.ok ? holder.value : undefined;
      const expired = held?.expires !== undefined && Date.parse(held.expires) <= Date.now();
      const lockLine = !holder.ok
        ? `The lock of ${session.store.url} cannot be read: ${describeStoreFailure(holder.error, recipeFile)}`
        : held === undefined
          ? undefined
          : expired
            ? `A lock whose lease ran out is left in ${session.store.url} by ${describeHolder(held)}; the next apply takes it over.`
            : `An apply holds the lock of ${session.store.url}: ${describeHolder(held)}.`;
      return printStatus(
        session,
        {
          running: held !== undefined && !expired,
          lockLine,
          lockJson:
            held !== undefined ? { state: expired ? 'stale' : 'held', holder: { ...held } } : null,
        },
        options,
        deps.terminal,
      );
    }
    return await localStatus(session, options, deps.terminal);
  } finally {
    await session.store?.close();
  }
}

/** The work directory's lock, checked like apply checks it: a dead process holds nothing. */
async function localStatus(
  session: Session,
  options: StatusOptions,
  terminal: Terminal,
): Promise<ExitCode> {
  // The lock's holder is checked like apply checks it: a dead process holds nothing.
  const lock = await readLock(session.workDir).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { state: 'unreadable' as const, code };
  });
  return printStatus(
    session,
    {
      running: lock.state === 'held',
      lockLine: describeLock(lock, lockPath(session.workDir)),
      lockJson: lockJson(lock),
    },
    options,
    terminal,
  );
}

/** What status says of the lock: whether an apply runs, one sentence, and the JSON. */
interface LockView {
  readonly running: boolean;
  readonly lockLine: string | undefined;
  readonly lockJson: JsonValue;
}

function printStatus(
  session: Session,
  lock: LockView,
  options: StatusOptions,
  terminal: Terminal,
): ExitCode {
  const { running } = lock;
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
    terminal.out(
      `${JSON.stringify({ recipe: session.recipe.name, workDir: session.workDir, ...(session.store?.remote === true ? { store: session.store.url } : {}), running, lock: lock.lockJson, images, steps: rows }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  const t = terminal;
  t.out(`${session.recipe.name}: work directory ${session.workDir}\n`);
  if (session.store?.remote === true) t.out(`State: ${session.store.url} (shared store)\n`);
  if (lock.lockLine !== undefined) t.out(`${lock.lockLine}\n`);
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

type LocalLock = LockState | { readonly state: 'unreadable'; readonly code: string };

/** The lock in one sentence, or undefined when there is none. */
function describeLock(lock: LocalLock, path: string): string | undefined {
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
function lockJson(lock: LocalLock): JsonValue {
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
