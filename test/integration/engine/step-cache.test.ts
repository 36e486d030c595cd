// The step cache of a shared store in the embedded cloud, over real HTTP with the real AWS
// SDK, with the test-only step kinds (fast): runner A is SIGKILLed mid-build, runner B in
// an empty work directory restores and downloads what A finished instead of running it,
// a third empty work directory has nothing to do and downloads nothing; two recipes with
// the same install share one entry; a blob missing from the cache makes its step re-run.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, test } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { repoPath } from '../../helpers/paths.js';
import { makeEngineRig, startFakeCli, type EngineRig } from '../../helpers/engine-rig.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

const STORE = 's3://emi-state/ci';

const clouds: TestCloud[] = [];
afterAll(async () => {
  for (const cloud of clouds) await cloud.stop(true);
});

async function rigWithCloud(): Promise<{ rig: EngineRig; cloud: TestCloud }> {
  const rig = makeEngineRig();
  const cloud = await startTestCloud({ dataDir: join(rig.dir, '.emi-recipe', 'local-cloud') });
  clouds.push(cloud);
  return { rig, cloud };
}

const run = (rig: EngineRig, args: readonly string[]) => startFakeCli(rig, args).done;

const apply = (recipe: string, workDir: string, ...extra: string[]): string[] => [
  'apply',
  recipe,
  '--no-progress',
  '--store',
  STORE,
  '--work-dir',
  workDir,
  ...extra,
];

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The keys below the store's cache, relative to it (`steps/<fp>.json`, `blobs/…`). */
async function cacheKeys(cloud: TestCloud): Promise<string[]> {
  const out = await cloud.clients.s3.send(
    new ListObjectsV2Command({ Bucket: 'emi-state', Prefix: 'ci/_cache/' }),
  );
  return (out.Contents ?? []).map((o) => (o.Key ?? '').slice('ci/_cache/'.length)).sort();
}

/** The state of recipe `name` in the store, as stored. */
async function storedState(
  cloud: TestCloud,
  name: string,
): Promise<{ steps: Record<string, { fingerprint: string }> }> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const out = await cloud.clients.s3.send(
    new GetObjectCommand({ Bucket: 'emi-state', Key: `ci/${name}/state.json` }),
  );
  return JSON.parse((await out.Body?.transformToString()) ?? '{}') as {
    steps: Record<string, { fingerprint: string }>;
  };
}

describe('the step cache of a shared store', () => {
  test('A killed after install-os: B restores and downloads instead of running it; C has nothing to do', async () => {
    const { rig, cloud } = await rigWithCloud();
    rig.setConfig({ defaultDelayMs: 300 });
    const a = startFakeCli(rig, apply(rig.recipe, join(rig.dir, 'runner-a'), '--lease', '3s'));
    const aPid = a.child.pid;
    // customize starts on install-os's files before install-os's upload and record are
    // done (they follow in the background); A is killed once the record is in the store.
    await waitFor(() =>
      rig.journal().some((e) => e.pid === aPid && e.event === 'start' && e.id === 'customize'),
    );
    await waitFor(async () => {
      const steps = await storedState(cloud, 'engine-demo')
        .then((s) => s.steps)
        .catch(() => ({}));
      return 'install-os' in steps;
    });
    a.child.kill('SIGKILL');
    expect((await a.done).signal).toBe('SIGKILL');
    const state = await storedState(cloud, 'engine-demo');
    const installFp = state.steps['install-os']?.fingerprint ?? '';
    expect(await cacheKeys(cloud)).toContain(`steps/${installFp}.json`);

    // B: an empty work directory; it waits for the lease of A's dead lock to run out.
    const b = await run(rig, apply(rig.recipe, join(rig.dir, 'runner-b'), '--lock-timeout', '1m'));
    expect(b.stderr).toContain('took over the lock');
    expect(b.code).toBe(0);
    const bPid = rig.journal().find((e) => e.pid !== aPid)?.pid;
    const ranByB = rig
      .journal()
      .filter((e) => e.pid === bPid && e.event === 'start')
      .map((e) => e.id);
    expect(ranByB).not.toContain('install-os');
    expect(ranByB).not.toContain('create-disk');
    expect(ranByB).toContain('customize');
    // customize read install-os's disk: downloaded into B's work directory, verified.
    expect(readdirSync(join(rig.dir, 'runner-b', 'artifacts', 'install-os'))).toContain('out.txt');
    expect(b.stdout).toMatch(/Images: eki-\S+ eri-\S+ emi-\S+/);
    const keys = rig.registry().map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(3);

    // C: plans "all up to date", applies nothing and downloads nothing.
    const plan = await run(rig, [
      'plan',
      rig.recipe,
      '--store',
      STORE,
      '--work-dir',
      join(rig.dir, 'runner-c'),
      '--json',
    ]);
    const doc = JSON.parse(plan.stdout) as {
      summary: { run: number; download: { files: number } };
    };
    expect(doc.summary.run).toBe(0);
    expect(doc.summary.download.files).toBe(0);
    const started = Date.now();
    const c = await run(rig, apply(rig.recipe, join(rig.dir, 'runner-c')));
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('Nothing to do');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('a fresh runner plans restores and downloads, and a changed customize re-runs only below it', async () => {
    const { rig } = await rigWithCloud();
    const a = await run(rig, apply(rig.recipe, join(rig.dir, 'runner-a')));
    expect(a.code).toBe(0);
    rig.editRecipe((text) => text.replace('packages: [less]', 'packages: [less, vim]'));
    const plan = await run(rig, [
      'plan',
      rig.recipe,
      '--store',
      STORE,
      '--work-dir',
      join(rig.dir, 'runner-b'),
      '--json',
    ]);
    expect(plan.code).toBe(0);
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(repoPath('schemas', 'plan.schema.json'), 'utf8')) as object,
    );
    const json = JSON.parse(plan.stdout) as unknown;
    expect(validate(json) ? [] : validate.errors).toEqual([]);
    const doc = json as {
      summary: { download: { files: number; bytes: number } };
      steps: { id: string; cause: string; download?: { readBy: string[]; bytes: number } }[];
    };
    const install = doc.steps.find((s) => s.id === 'install-os');
    expect(install?.cause).toBe('up-to-date-elsewhere');
    // customize reads install-os's disk, and the extract steps read it through customize's
    // overlay (its backing file).
    expect(install?.download?.readBy).toEqual([
      'customize',
      'extract-kernel',
      'extract-ramdisk',
      'extract-rootfs',
    ]);
    expect(doc.summary.download.files).toBeGreaterThan(0);
    const text = await run(rig, [
      'plan',
      rig.recipe,
      '--store',
      STORE,
      '--work-dir',
      join(rig.dir, 'runner-b'),
    ]);
    expect(text.stdout).toMatch(
      /download \S+ \S+ from the step cache \(out\.txt\): customize, extract-kernel, extract-ramdisk, extract-rootfs read them/,
    );
  });

  test('two recipes with the same install share one entry: the second restores it', async () => {
    const { rig, cloud } = await rigWithCloud();
    const first = await run(rig, apply(rig.recipe, join(rig.dir, 'one')));
    expect(first.code).toBe(0);
    const other = join(rig.dir, 'other.yaml');
    writeFileSync(
      other,
      readFileSync(rig.recipe, 'utf8')
        .replace('name: engine-demo', 'name: engine-other')
        .replace('packages: [less]', 'packages: [less, curl]'),
    );
    const entries = (await cacheKeys(cloud)).filter((k) => k.startsWith('steps/'));
    const second = await run(rig, apply(other, join(rig.dir, 'two')));
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('restored from the cache');
    const firstPid = rig.journal()[0]?.pid;
    const ranBySecond = rig
      .journal()
      .filter((e) => e.pid !== firstPid && e.event === 'start')
      .map((e) => e.id);
    expect(ranBySecond).not.toContain('install-os');
    expect(ranBySecond).not.toContain('create-disk');
    expect(ranBySecond).toContain('customize');
    const state = await storedState(cloud, 'engine-other');
    const installFp = state.steps['install-os']?.fingerprint ?? '';
    expect(entries).toContain(`steps/${installFp}.json`);
  });

  test('a blob missing from the cache: the step that made it runs again here, saying why', async () => {
    const { rig, cloud } = await rigWithCloud();
    const a = await run(rig, apply(rig.recipe, join(rig.dir, 'runner-a')));
    expect(a.code).toBe(0);
    const state = (await storedState(cloud, 'engine-demo')) as unknown as {
      steps: Record<string, { artifacts: Record<string, { sha256: string }> }>;
    };
    const sha = state.steps['install-os']?.artifacts.out?.sha256 ?? 'none';
    await cloud.clients.s3.send(
      new DeleteObjectCommand({ Bucket: 'emi-state', Key: `ci/_cache/blobs/sha256/${sha}.gz` }),
    );
    rig.editRecipe((text) => text.replace('packages: [less]', 'packages: [less, vim]'));
    rmSync(join(rig.dir, 'journal.log'), { force: true });
    const b = await run(rig, apply(rig.recipe, join(rig.dir, 'runner-b'), '--verbose'));
    expect(b.code).toBe(0);
    const ran = rig
      .journal()
      .filter((e) => e.event === 'start')
      .map((e) => e.id);
    expect(ran).toContain('install-os');
    expect(b.stdout + b.stderr).toContain('the step cache could not give them back');
  });

  test('a fresh runner whose only pending step is a registration downloads nothing', async () => {
    const { rig } = await rigWithCloud();
    expect((await run(rig, apply(rig.recipe, join(rig.dir, 'runner-a')))).code).toBe(0);
    // The machine image is gone from the (fake) cloud: --refresh finds it and re-registers.
    const registry = join(rig.dir, 'registry.jsonl');
    const kept = readFileSync(registry, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.includes('"imageId":"emi-'));
    writeFileSync(registry, kept.map((line) => `${line}\n`).join(''));
    const workDir = join(rig.dir, 'runner-b');
    const plan = await run(rig, [
      'plan',
      rig.recipe,
      '--store',
      STORE,
      '--work-dir',
      workDir,
      '--refresh',
      '--json',
    ]);
    const doc = JSON.parse(plan.stdout) as {
      summary: { run: number; download: { files: number; bytes: number } };
      steps: { id: string; verdict: string }[];
    };
    expect(doc.steps.filter((s) => s.verdict === 'run').map((s) => s.id)).toEqual([
      'register-machine',
    ]);
    expect(doc.summary.download).toEqual({ files: 0, bytes: 0 });
    rmSync(join(rig.dir, 'journal.log'), { force: true });
    const b = await run(rig, apply(rig.recipe, workDir, '--refresh'));
    expect(b.code).toBe(0);
    expect(
      rig
        .journal()
        .filter((e) => e.event === 'start')
        .map((e) => e.id),
    ).toEqual(['register-machine']);
    expect(readdirSync(join(workDir, 'artifacts')).filter((f) => !f.endsWith('.json'))).toEqual([
      'register-machine',
    ]);
  });
});
