// The runner meets a full or read-only disk: a step's log that cannot be created, a
// state write that fails after a step, a step that throws ENOSPC. Each is a failed step
// naming the path (exit 1 in apply), never "internal error", and state.json stays as it was;
// a TypeError thrown by a step is the one that is internal (a bug, exit 70 in apply).
// And Ctrl-C in the moment a step returns its outputs keeps that step.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { ok } from '../../../src/core/result.js';
import { bindBuiltinSteps } from '../../../src/plan/bind-kind.js';
import { buildGraph, type StepGraph } from '../../../src/plan/graph.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';
import type { BuiltinKinds, BuiltinStepSpec } from '../../../src/plan/step-params.js';
import { loadRecipe } from '../../../src/recipe/load-recipe.js';
import type { RunEvent } from '../../../src/run/events.js';
import { inspect } from '../../../src/run/inspect.js';
import { logPath } from '../../../src/run/layout.js';
import { runGraph } from '../../../src/run/runner.js';
import {
  emptyState,
  saveState,
  statePath,
  StateStore,
  type State,
} from '../../../src/run/state.js';
import { StoreWriteError } from '../../../src/run/store.js';
import type { Exec } from '../../../src/tools/exec.js';
import { repoPath } from '../../helpers/paths.js';
import { kindTable } from '../../helpers/fake-kinds.js';

const noExec: Exec = () => {
  throw new Error('no tool runs in this test');
};

/** Kinds that write one small artifact; `throwIn` throws `error` instead. */
function kinds(throwIn?: { kind: string; error: unknown }): BuiltinKinds {
  return kindTable((kind) => ({
    kind,
    tools: [],
    describe: () => ({ summary: kind, commands: [], effects: [], notes: [] }),
    run: async (ctx) => {
      if (throwIn?.kind === kind) throw throwIn.error;
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(ctx.outDir, 'out.txt'), ctx.step.id);
      return ok({ artifacts: { out: 'out.txt' }, values: {} });
    },
  }));
}

/** A store whose writes fail with `code` once `failWhen` says so (a disk that fills up). */
class FailingStore extends StateStore {
  readonly #failWhen: (next: State) => boolean;
  readonly #workDir: string;
  constructor(workDir: string, state: State, failWhen: (next: State) => boolean) {
    super(workDir, state);
    this.#workDir = workDir;
    this.#failWhen = failWhen;
  }
  override update(change: (state: State) => State): Promise<void> {
    if (!this.#failWhen(change(this.current))) return super.update(change);
    const tmp = join(this.#workDir, '.state.json.tmp-1-2');
    return Promise.reject(
      Object.assign(new Error(`ENOSPC: no space left on device, write '${tmp}'`), {
        code: 'ENOSPC',
        syscall: 'write',
        path: tmp,
      }),
    );
  }
}

async function setUp(
  stepKinds: BuiltinKinds,
  makeStore: (workDir: string, state: State) => StateStore,
  controller = new AbortController(),
) {
  const loaded = await loadRecipe(repoPath('test', 'fixtures', 'recipes', 'engine', 'demo.yaml'), {
    env: {},
    strictInputs: true,
  });
  if (!loaded.ok || !loaded.value.recipe) throw new Error('fixture recipe does not load');
  const recipe = loaded.value.recipe;
  const graph: StepGraph<BuiltinStepSpec> | undefined = buildGraph(defaultGraphInput(recipe)).graph;
  if (!graph) throw new Error('no graph');
  const bound = bindBuiltinSteps(graph.steps, stepKinds);
  const workDir = mkdtempSync(join(tmpdir(), 'emi-runner-'));
  const state = emptyState({ name: recipe.name, path: recipe.path });
  const signal = controller.signal;
  const inspection = await inspect({
    graph,
    state,
    workDir,
    kinds: bound,
    exec: noExec,
    signal,
    host: { accel: 'tcg', isRoot: false },
  });
  const store = makeStore(workDir, state);
  await store.update((s) => s);
  const events: RunEvent[] = [];
  const run = () =>
    runGraph({
      graph,
      kinds: bound,
      store,
      facts: inspection.facts,
      workDir,
      jobs: 1,
      onFailure: 'stop',
      signal,
      emit: (e) => events.push(e),
      exec: noExec,
      secrets: new Map(),
      probeAccel: () => Promise.resolve('tcg'),
    });
  return { workDir, store, events, run };
}

const failures = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'step-failed' ? [{ id: e.id, ...e.failure }] : []));

describe('the runner on a full or read-only disk', () => {
  test('a failed state write after a step names state.json; the file keeps what it had', async () => {
    const { workDir, events, run } = await setUp(kinds(), (dir, state) => {
      return new FailingStore(dir, state, (next) => 'install-os' in next.steps);
    });
    const result = await run();
    expect(result.outcome).toBe('failed');
    expect(failures(events)).toEqual([
      {
        id: 'install-os',
        kind: 'fs',
        reason: 'io-error',
        code: 'ENOSPC',
        path: statePath(workDir),
        action: 'record the step in',
        place: 'work-dir',
      },
    ]);
    const [failure] = failures(events);
    expect(failure && describeStepFailure(failure)).toBe(
      `cannot record the step in ${statePath(workDir)}: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or use another work directory (--work-dir DIR). Finished steps are kept; run the same command again to resume.`,
    );
    const after = JSON.parse(readFileSync(statePath(workDir), 'utf8')) as State;
    expect(Object.keys(after.steps)).toEqual(['create-disk']);
  });

  test('a step that meets ENOSPC or EROFS fails naming the path, not as a bug', async () => {
    for (const code of ['ENOSPC', 'EROFS']) {
      const error = Object.assign(new Error(`${code}: x, open '/w/artifacts/x.partial/d.img'`), {
        code,
        syscall: 'open',
        path: '/w/artifacts/x.partial/d.img',
      });
      const { events, run } = await setUp(kinds({ kind: 'create-disk', error }), (d, s) => {
        return new StateStore(d, s);
      });
      await run();
      const [failure] = failures(events);
      expect(failure).toMatchObject({ id: 'create-disk', kind: 'fs', code, reason: 'io-error' });
      const text = failure ? describeStepFailure(failure) : '';
      expect(text).toContain(`cannot write /w/artifacts/x.partial/d.img: `);
      expect(text).toContain(`(${code})`);
      expect(text).not.toContain('bug');
    }
  });

  test('a step whose write(2) meets ENOSPC (an error with no path) fails naming its output directory, not as a bug', async () => {
    const error = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
    });
    const { events, run } = await setUp(kinds({ kind: 'create-disk', error }), (d, s) => {
      return new StateStore(d, s);
    });
    await run();
    const [failure] = failures(events);
    expect(failure).toMatchObject({ id: 'create-disk', kind: 'fs', code: 'ENOSPC' });
    const text = failure ? describeStepFailure(failure) : '';
    expect(text).toMatch(
      /cannot write \/\S+create-disk\S*: no space left on the device \(ENOSPC\)/,
    );
    expect(text).not.toContain('bug');
  });

  test('a step that throws a TypeError fails as internal (a bug), never as a disk problem; state keeps the finished steps', async () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'size')");
    const { workDir, events, run } = await setUp(kinds({ kind: 'install-os', error }), (d, s) => {
      return new StateStore(d, s);
    });
    const result = await run();
    expect(result.outcome).toBe('failed');
    expect(result.summary.failed).toEqual(['install-os']);
    const [failure] = failures(events);
    expect(failure).toMatchObject({ id: 'install-os', kind: 'internal', reason: 'internal-error' });
    const text = failure ? describeStepFailure(failure) : '';
    expect(text).toMatch(
      /^internal error: Cannot read properties of undefined \(reading 'size'\)\. This is a bug in emi-recipe/,
    );
    expect(text).not.toContain('space');
    const after = JSON.parse(readFileSync(statePath(workDir), 'utf8')) as State;
    expect(Object.keys(after.steps)).toEqual(['create-disk']);
    expect(readFileSync(logPath(workDir, 'install-os'), 'utf8')).toContain(
      '# internal error: TypeError: Cannot read properties of undefined',
    );
  });

  test('a log that cannot be created fails the step before it runs', async () => {
    const ran: string[] = [];
    const fakes = kinds();
    const original = fakes['create-disk'];
    const stepKinds: BuiltinKinds = {
      ...fakes,
      'create-disk': {
        ...original,
        run: (ctx) => {
          ran.push(ctx.step.id);
          return original.run(ctx);
        },
      },
    };
    const { workDir, events, run } = await setUp(stepKinds, (d, s) => new StateStore(d, s));
    mkdirSync(logPath(workDir, 'create-disk'), { recursive: true }); // a directory where the log goes
    await run();
    expect(ran).toEqual([]);
    const [failure] = failures(events);
    expect(failure?.id).toBe('create-disk');
    expect(failure).toMatchObject({
      reason: 'log-unwritable',
      path: logPath(workDir, 'create-disk'),
    });
    expect(failure && describeStepFailure(failure)).toContain('cannot create its log: ');
  });

  test('a shared store that refuses a state write (a lost race) fails the step, not as a bug', async () => {
    const refused = { reason: 'state-conflict' as const, url: 's3://b/p/demo/state.json' };
    let writes = 0;
    const { events, run } = await setUp(kinds(), (d, s) => {
      // The first write succeeds; the second (create-disk's record) lost a race.
      return new StateStore(async (next) => {
        writes += 1;
        if (writes === 2)
          throw new StoreWriteError(refused, 'the state was changed by another run');
        await saveState(d, next);
      }, s);
    });
    const result = await run();
    expect(result.outcome).toBe('failed');
    const [failure] = failures(events);
    expect(failure).toMatchObject({ id: 'create-disk', kind: 'cloud', reason: 'state-conflict' });
    expect(failure && describeStepFailure(failure)).toContain(
      'the state store refused the write: the state was changed by another run',
    );
    expect(failure && describeStepFailure(failure)).not.toContain('bug');
  });
});

describe('the runner interrupted as a step finishes', () => {
  test('a step that returned its outputs as Ctrl-C came is recorded, and nothing after it starts', async () => {
    const controller = new AbortController();
    const base = kinds();
    const stepKinds = kindTable((kind) => {
      const inner = base[kind];
      return {
        ...inner,
        run: async (ctx) => {
          const result = await inner.run(ctx);
          if (kind === 'create-disk') controller.abort(new Error('SIGINT'));
          return result;
        },
      };
    });
    const { workDir, events, run } = await setUp(
      stepKinds,
      (d, s) => new StateStore(d, s),
      controller,
    );
    const result = await run();
    expect(result.outcome).toBe('canceled');
    const after = JSON.parse(readFileSync(statePath(workDir), 'utf8')) as State;
    expect(Object.keys(after.steps)).toEqual(['create-disk']);
    expect(events.filter((e) => e.type === 'step-succeeded').map((e) => e.id)).toEqual([
      'create-disk',
    ]);
    expect(events.some((e) => e.type === 'step-started' && e.id !== 'create-disk')).toBe(false);
  });
});
