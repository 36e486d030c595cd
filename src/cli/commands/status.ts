// `emi-recipe status`: what is done in the work directory, with outputs such as image ids.
import { existsSync, readFileSync } from 'node:fs';
import { formatDuration } from '../../recipe/units.js';
import { lockPath, partialDir } from '../../run/layout.js';
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
  const running = existsSync(lockPath(session.workDir))
    ? readFileSync(lockPath(session.workDir), 'utf8').trim()
    : undefined;
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
      `${JSON.stringify({ recipe: session.recipe.name, workDir: session.workDir, running: running !== undefined, images, steps: rows }, null, 2)}\n`,
    );
    return EXIT.ok;
  }
  const t = deps.terminal;
  t.out(`${session.recipe.name}: work directory ${session.workDir}\n`);
  if (running !== undefined) t.out(`An apply holds the lock: ${running}\n`);
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
