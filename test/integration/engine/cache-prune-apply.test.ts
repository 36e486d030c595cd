// `cache ls|prune` on the step cache an apply wrote (the test-only step kinds, the embedded
// cloud over real HTTP): every entry the runner wrote reads back, no blob is an orphan;
// `prune --older-than 0s` removes every entry but keeps each blob the recipe's state names,
// and a fresh runner then still has nothing to do.
import { join } from 'node:path';
import { ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, test } from '@jest/globals';
import { makeEngineRig, startFakeCli } from '../../helpers/engine-rig.js';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

const STORE = 's3://emi-state/ci';
const clouds: TestCloud[] = [];
afterAll(async () => {
  for (const cloud of clouds) await cloud.stop(true);
});

async function keys(cloud: TestCloud, prefix: string): Promise<string[]> {
  const out = await cloud.clients.s3.send(
    new ListObjectsV2Command({ Bucket: 'emi-state', Prefix: prefix }),
  );
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

describe('cache ls|prune on what apply wrote', () => {
  test('entries read back; prune keeps what the state names; a fresh runner has nothing to do', async () => {
    const rig = makeEngineRig();
    const cloud = await startTestCloud({ dataDir: join(rig.dir, '.emi-recipe', 'local-cloud') });
    clouds.push(cloud);
    const run = (args: readonly string[]) => startFakeCli(rig, args).done;
    const applied = await run([
      'apply',
      rig.recipe,
      '--no-progress',
      '--store',
      STORE,
      '--work-dir',
      join(rig.dir, 'runner-a'),
    ]);
    expect(applied.code).toBe(0);

    const ls = await run(['cache', 'ls', rig.recipe, '--store', STORE, '--json']);
    expect(ls.stderr).toBe('');
    expect(ls.code).toBe(0);
    const doc = JSON.parse(ls.stdout) as {
      entries: { recipe?: string; unreadable?: string; missingBlobs?: string[] }[];
      totals: { entries: number; unreadableEntries: number; blobs: number; orphans: number };
    };
    expect(doc.totals.entries).toBeGreaterThan(0);
    expect(doc.totals).toMatchObject({ unreadableEntries: 0, orphans: 0 });
    for (const e of doc.entries)
      expect(e).toMatchObject({ recipe: 'engine-demo', missingBlobs: [] });

    const digest = (k: string): string => /([0-9a-f]{64})\.gz$/.exec(k)?.[1] ?? k;
    const before = (await keys(cloud, 'ci/_cache/blobs/')).map(digest);
    const pruned = await run([
      'cache',
      'prune',
      rig.recipe,
      '--store',
      STORE,
      '--older-than',
      '0s',
    ]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(`Removed ${String(doc.totals.entries)} entries`);
    expect(await keys(cloud, 'ci/_cache/steps/')).toEqual([]);
    // The blobs left are exactly those of before that the state names.
    const state = await cloud.clients.s3.send(
      new GetObjectCommand({ Bucket: 'emi-state', Key: 'ci/engine-demo/state.json' }),
    );
    const steps = (
      JSON.parse((await state.Body?.transformToString()) ?? '{}') as {
        steps: Record<string, { artifacts: Record<string, { sha256: string }> }>;
      }
    ).steps;
    const named = new Set(
      Object.values(steps).flatMap((s) => Object.values(s.artifacts).map((a) => a.sha256)),
    );
    const left = (await keys(cloud, 'ci/_cache/blobs/')).map(digest);
    expect(left.length).toBeGreaterThan(0);
    expect(left).toEqual(before.filter((sha) => named.has(sha)));

    const fresh = await run([
      'apply',
      rig.recipe,
      '--no-progress',
      '--store',
      STORE,
      '--work-dir',
      join(rig.dir, 'runner-b'),
    ]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('Nothing to do');
  }, 120_000);
});
