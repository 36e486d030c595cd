// The runner with a step cache (an in-memory StepCache): a finished step's entry is saved
// before the state records it; a failed upload is a warning and the build goes on; a step
// whose fingerprint the cache holds is restored, not run; a need's files not here are
// fetched before a step that reads them runs, and a need the cache cannot give back runs
// again here. Upload and registration kinds are never asked of the cache.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { err, ok } from '../../../src/core/result.js';
import { bindBuiltinSteps } from '../../../src/plan/bind-kind.js';
import { buildGraph, type StepGraph } from '../../../src/plan/graph.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import type { BuiltinKinds, BuiltinStepSpec } from '../../../src/plan/step-params.js';
import { loadRecipe } from '../../../src/recipe/load-recipe.js';
import type { RunEvent } from '../../../src/run/events.js';
import { inspect } from '../../../src/run/inspect.js';
import { runGraph } from '../../../src/run/runner.js';
import { emptyState, StateStore, type State } from '../../../src/run/state.js';
import type { CachedOutputs, StepCache } from '../../../src/run/step-cache.js';
import type { Exec } from '../../../src/tools/exec.js';
import { repoPath } from '../../helpers/paths.js';
import { kindTable } from '../../helpers/fake-kinds.js';

const noExec: Exec = () => {
  throw new Error('no tool runs in this test');
};

/** Kinds that write one small artifact naming their step; each run is counted. */
function kinds(ran: string[], onRun?: (id: string) => void): BuiltinKinds {
  return kindTable((kind) => ({
    kind,
    tools: [],
    describe: () => ({ summary: kind, commands: [], effects: [], notes: [] }),
    run: async (ctx) => {
      ran.push(ctx.step.id);
      onRun?.(ctx.step.id);
      // Read every need's artifact, as a real step reads its needs' files.
      const read = [];
      for (const need of ctx.needs.values())
        for (const file of Object.values(need.artifacts))
          read.push(readFileSync(join(need.dir, file), 'utf8'));
      await writeFile(join(ctx.outDir, 'out.txt'), `${ctx.step.id}:${read.length}`);
      return ok({ artifacts: { out: 'out.txt' }, values: { step: ctx.step.id } });
    },
  }));
}

/** The temporary directories the tests made (work directories, blobs): removed after them. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};

/** A cache in memory: entries by fingerprint, blobs as files in a directory by digest. */
function memoryCache(
  options: {
    failSave?: boolean;
    kinds?: ReadonlySet<string>;
    /** Awaited before each save: holds an upload until the test lets it go. */
    gate?: (kind: string) => Promise<void>;
  } = {},
) {
  const blobs = tempDir('emi-blobs-');
  const entries = new Map<string, CachedOutputs>();
  const calls: string[] = [];
  let whenSaved: ((id: string) => void) | undefined;
  const cache: StepCache = {
    where: 'memory://cache/',
    caches: (kind) =>
      (options.kinds ?? new Set(['create-disk', 'install-os', 'customize'])).has(kind),
    lookup: (fingerprint) => {
      calls.push(`lookup ${fingerprint.slice(0, 8)}`);
      const found = entries.get(fingerprint);
      return Promise.resolve(found ? { found } : {});
    },
    save: async (entry, dir) => {
      calls.push(`save ${entry.kind}`);
      whenSaved?.(entry.kind);
      await options.gate?.(entry.kind);
      if (options.failSave === true) return err('HTTP 503 SlowDown (fake), after 4 attempts');
      for (const a of Object.values(entry.artifacts))
        await copyFile(join(dir, a.file), join(blobs, a.sha256));
      entries.set(entry.fingerprint, {
        ...entry,
        recipe: 'memory',
        created: new Date(0).toISOString(),
      });
      return ok({ bytesSent: 1 });
    },
    fetch: async (file, dest) => {
      calls.push(`fetch ${file.file}`);
      try {
        await copyFile(join(blobs, file.sha256), dest);
        return ok({ bytesReceived: file.size });
      } catch {
        return err({ reason: 'missing', detail: `no blob ${file.sha256}` });
      }
    },
  };
  return {
    cache,
    entries,
    calls,
    blobs,
    onSave: (f: (kind: string) => void) => {
      whenSaved = f;
    },
  };
}

async function runner(
  cache: StepCache | undefined,
  start?: State,
  workDir?: string,
  hooks: {
    onRun?: (id: string) => void;
    write?: (dir: string, state: State) => Promise<void>;
    /** PlanFacts.readsThrough: kinds whose files are overlays of their needs'. */
    readsThrough?: ReadonlySet<string>;
  } = {},
) {
  const loaded = await loadRecipe(repoPath('test', 'fixtures', 'recipes', 'engine', 'demo.yaml'), {
    env: {},
    strictInputs: true,
  });
  if (!loaded.ok || !loaded.value.recipe) throw new Error('fixture recipe does not load');
  const recipe = loaded.value.recipe;
  const graph: StepGraph<BuiltinStepSpec> | undefined = buildGraph(defaultGraphInput(recipe)).graph;
  if (!graph) throw new Error('no graph');
  const ran: string[] = [];
  const bound = bindBuiltinSteps(graph.steps, kinds(ran, hooks.onRun));
  const dir = workDir ?? tempDir('emi-runner-cache-');
  await mkdir(dir, { recursive: true });
  const state = start ?? emptyState({ name: recipe.name, path: recipe.path });
  const signal = new AbortController().signal;
  const inspection = await inspect({
    graph,
    state,
    workDir: dir,
    kinds: bound,
    exec: noExec,
    signal,
    host: { accel: 'tcg', isRoot: false },
    sharedState: true,
  });
  const write = hooks.write;
  const store = new StateStore(write ? (next: State) => write(dir, next) : dir, state);
  await store.update((x) => x);
  const events: RunEvent[] = [];
  const result = await runGraph({
    graph,
    kinds: bound,
    store,
    facts: {
      ...inspection.facts,
      ...(hooks.readsThrough !== undefined ? { readsThrough: hooks.readsThrough } : {}),
    },
    workDir: dir,
    jobs: 1,
    onFailure: 'stop',
    signal,
    emit: (e) => events.push(e),
    exec: noExec,
    secrets: new Map(),
    probeAccel: () => Promise.resolve('tcg'),
    ...(cache !== undefined ? { cache } : {}),
  });
  return { result, ran, store, events, workDir: dir };
}

describe('the runner with a step cache', () => {
  test("a cached step's entry is saved before the state records it; others are never saved", async () => {
    const memory = memoryCache();
    const dir = tempDir('emi-runner-cache-');
    const recordedAtSave: boolean[] = [];
    memory.onSave((kind) => {
      // The state as written so far (the step ids of these kinds are their kinds' names).
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
      recordedAtSave.push(kind in state.steps);
    });
    const { result } = await runner(memory.cache, undefined, dir);
    expect(result.outcome).toBe('ok');
    expect(memory.calls.filter((c) => c.startsWith('save'))).toEqual([
      'save create-disk',
      'save install-os',
      'save customize',
    ]);
    expect(recordedAtSave).toEqual([false, false, false]);
  });

  test('a failed upload is a warning: the step is recorded and the build goes on', async () => {
    const memory = memoryCache({ failSave: true });
    const { result, events, store } = await runner(memory.cache);
    expect(result.outcome).toBe('ok');
    expect(store.current.steps['install-os']).toBeDefined();
    const warnings = events.flatMap((e) => (e.type === 'step-warning' ? [e] : []));
    expect(warnings.map((w) => w.id)).toEqual(['create-disk', 'install-os', 'customize']);
    expect(warnings[1]?.message).toContain(
      'its outputs were not saved to the step cache memory://cache/: HTTP 503 SlowDown (fake)',
    );
    expect(memory.entries.size).toBe(0);
  });

  test('a second runner restores cached steps and fetches only the files a running step reads', async () => {
    const memory = memoryCache();
    const first = await runner(memory.cache);
    expect(first.result.outcome).toBe('ok');
    // A fresh work directory, an empty state: the three cached steps are restored.
    const second = await runner(memory.cache);
    expect(second.result.outcome).toBe('ok');
    expect(second.result.summary.restored).toEqual(['create-disk', 'install-os', 'customize']);
    expect(second.ran).not.toContain('install-os');
    expect(second.ran).toContain('extract-kernel');
    // extract-* read customize's disk: fetched once; create-disk's and install-os's never.
    expect(memory.calls.filter((c) => c.startsWith('fetch'))).toEqual(['fetch out.txt']);
    expect(readFileSync(join(second.workDir, 'artifacts', 'customize', 'out.txt'), 'utf8')).toBe(
      'customize:1',
    );
    // Dependents saw the same output digests: their fingerprints match the first run's.
    for (const id of ['extract-kernel', 'bundle-kernel'])
      expect(second.store.current.steps[id]?.fingerprint).toBe(
        first.store.current.steps[id]?.fingerprint,
      );
  });

  test("a step reading an overlay's files gets the chain below it: customize's, install-os's and create-disk's files", async () => {
    const memory = memoryCache();
    const overlays = new Set(['install-os', 'customize']);
    await runner(memory.cache, undefined, undefined, { readsThrough: overlays });
    const second = await runner(memory.cache, undefined, undefined, { readsThrough: overlays });
    expect(second.result.outcome).toBe('ok');
    expect(second.ran).not.toContain('install-os');
    // Each downloaded once, although every extract step reads customize's disk.
    expect(memory.calls.filter((c) => c.startsWith('fetch'))).toEqual([
      'fetch out.txt',
      'fetch out.txt',
      'fetch out.txt',
    ]);
    for (const id of ['create-disk', 'install-os', 'customize'])
      expect(readFileSync(join(second.workDir, 'artifacts', id, 'out.txt'), 'utf8')).toMatch(
        new RegExp(`^${id}:`),
      );
  });

  test('an overlay whose base the cache lost is made again here after its base, never read over a new base', async () => {
    const memory = memoryCache();
    const overlays = new Set(['install-os', 'customize']);
    const first = await runner(memory.cache, undefined, undefined, { readsThrough: overlays });
    rmSync(
      join(memory.blobs, first.store.current.steps['install-os']?.artifacts.out?.sha256 ?? ''),
    );
    const second = await runner(memory.cache, undefined, undefined, { readsThrough: overlays });
    expect(second.result.outcome).toBe('ok');
    // install-os ran again here (its blob is gone), so customize, restored over the old
    // install-os, ran again too, then what reads it.
    expect(second.ran.slice(0, 2)).toEqual(['install-os', 'customize']);
    expect(
      second.events.some(
        (e) =>
          e.type === 'step-log' &&
          e.id === 'customize' &&
          e.line.includes('install-os, whose disk its disk is an overlay of, was made again here'),
      ),
    ).toBe(true);
  });

  test('a need whose blob the cache lost runs again here before the step that reads it', async () => {
    const memory = memoryCache();
    const first = await runner(memory.cache);
    rmSync(memory.blobs, { recursive: true, force: true });
    await mkdir(memory.blobs);
    // The shared state says everything is done, but this work directory is empty; force
    // the last build step so that it reads customize's files.
    const state = first.store.current;
    const dropped = Object.fromEntries(
      Object.entries(state.steps).filter(([id]) => id !== 'extract-kernel'),
    );
    const second = await runner(memory.cache, { ...state, steps: dropped });
    expect(second.result.outcome).toBe('ok');
    expect(second.ran).toEqual(expect.arrayContaining(['customize', 'extract-kernel']));
    expect(
      second.events.some(
        (e) => e.type === 'step-log' && e.line.includes('the step cache could not give them back'),
      ),
    ).toBe(true);
  });

  test("with a cache, a step's dependents start before its upload ends; its record follows the upload and its needs' records", async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // install-os's upload is held until customize, which reads its disk, has run.
    const memory = memoryCache({
      gate: (kind) => (kind === 'install-os' ? released : Promise.resolve()),
    });
    const dir = tempDir('emi-runner-cache-');
    const seenByCustomize: string[] = [];
    const succeeded: string[] = [];
    const run = runner(memory.cache, undefined, dir, {
      onRun: (id) => {
        if (id !== 'customize') return;
        const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
        seenByCustomize.push(...Object.keys(state.steps));
        release();
      },
    });
    const { result, events, store } = await run;
    expect(result.outcome).toBe('ok');
    // customize ran while install-os was done here but not yet in the state (nor the cache).
    expect(seenByCustomize).toEqual(['create-disk']);
    for (const e of events) if (e.type === 'step-succeeded') succeeded.push(e.id);
    // Each record (and its ✓) only after its needs': install-os before customize.
    expect(succeeded.indexOf('install-os')).toBeLessThan(succeeded.indexOf('customize'));
    expect(succeeded.indexOf('customize')).toBeLessThan(succeeded.indexOf('extract-kernel'));
    expect(Object.keys(store.current.steps).sort()).toEqual(
      result.summary.ran.concat(result.summary.upToDate).sort(),
    );
    expect(memory.entries.size).toBe(3);
  });

  test('a record the store refuses fails its step, and the dependents that ran are not recorded', async () => {
    const memory = memoryCache();
    const { StoreWriteError } = await import('../../../src/run/store.js');
    const { result, store, events } = await runner(memory.cache, undefined, undefined, {
      write: (dir, next) => {
        if ('install-os' in next.steps)
          return Promise.reject(
            new StoreWriteError(
              { reason: 'state-conflict', url: 's3://b/p/state.json' },
              'another runner wrote the state',
            ),
          );
        return writeFile(join(dir, 'state.json'), JSON.stringify(next));
      },
    });
    expect(result.outcome).toBe('failed');
    expect(result.summary.failed).toEqual(expect.arrayContaining(['install-os', 'customize']));
    expect(result.summary.ran).not.toContain('install-os');
    expect(store.current.steps['install-os']).toBeUndefined();
    expect(store.current.steps['customize']).toBeUndefined();
    const failures = events.flatMap((e) => (e.type === 'step-failed' ? [e] : []));
    expect(failures.find((f) => f.id === 'customize')?.failure).toMatchObject({
      reason: 'need-not-recorded',
    });
  });

  test('an upload that throws (a bug in the cache) is a warning: the step is recorded and the run ends', async () => {
    const memory = memoryCache();
    const throwing: StepCache = {
      ...memory.cache,
      save: () => Promise.reject(new Error('boom in save')),
    };
    const { result, events, store } = await runner(throwing);
    expect(result.outcome).toBe('ok');
    expect(store.current.steps['install-os']).toBeDefined();
    const warnings = events.flatMap((e) => (e.type === 'step-warning' ? [e] : []));
    expect(warnings.map((w) => w.id)).toEqual(['create-disk', 'install-os', 'customize']);
    expect(warnings[0]?.message).toContain('boom in save');
  });
});
