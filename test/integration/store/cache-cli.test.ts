// `emi-recipe cache ls|prune` against the embedded cloud over real HTTP, with real blobs
// (putBlob) and entries (serializeCacheEntry): what ls shows, what a dry run would remove,
// what prune removes and what it keeps (blobs written since the cutoff, a blob only a
// recipe's state names, a forged entry until it is old); the listing port's paging and
// batched deletes against the same server; a bad duration.
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sdkBlobObjects } from '../../../src/cloud/blob-objects.js';
import { putBlob } from '../../../src/cloud/blob-transfer.js';
import {
  deleteAllObjects,
  listAllObjects,
  sdkObjectListing,
} from '../../../src/cloud/object-listing.js';
import { sha256Hex } from '../../../src/core/hash.js';
import { parseS3Url } from '../../../src/core/s3-url.js';
import { outputDigestOf } from '../../../src/run/checkpoint.js';
import {
  CACHE_ENTRY_FORMAT,
  cacheBlobKey,
  cacheEntryKey,
  serializeCacheEntry,
  type CacheEntry,
} from '../../../src/store/cache-layout.js';
import { exec } from '../../../src/tools/exec.js';
import { runCliAsync, startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';
import { repoPath } from '../../helpers/paths.js';

const BUCKET = 'emi-cache';
const STORE = `s3://${BUCKET}/ci`;
const parsedStore = parseS3Url(STORE);
if (!parsedStore.ok) throw new Error(parsedStore.error);
const store = parsedStore.value;
const DAY = 86_400_000;

let dir: string;
let cloud: TestCloud;
let recipe: string;
const signal = new AbortController().signal;

/** A file of `size` random bytes and its digest. */
function file(name: string, size: number): { path: string; sha256: string; size: number } {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, sha256: sha256Hex(bytes), size };
}

async function upload(f: { path: string; sha256: string }): Promise<void> {
  const objects = sdkBlobObjects(cloud.clients.s3, cloud.cloud.endpoints.s3, BUCKET);
  const put = await putBlob(objects, f.path, cacheBlobKey(store, f.sha256), f, {
    exec,
    signal,
    tmpDir: dir,
  });
  if (!put.ok) throw new Error(JSON.stringify(put.error));
}

async function putText(key: string, body: string): Promise<void> {
  await cloud.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** Writes an entry for `fp` naming `files`, created `ageMs` ago. */
async function putEntry(
  fp: string,
  ageMs: number,
  files: readonly { sha256: string; size: number }[],
  kind = 'install-os',
): Promise<void> {
  const artifacts = Object.fromEntries(
    files.map((f, i) => [
      `a${String(i)}`,
      { file: `f${String(i)}.img`, sha256: f.sha256, size: f.size },
    ]),
  );
  const entry: CacheEntry = {
    format: CACHE_ENTRY_FORMAT,
    kind,
    fingerprint: fp,
    recipe: 'debian-minimal',
    created: new Date(Date.now() - ageMs).toISOString(),
    artifacts,
    values: {},
    outputDigest: outputDigestOf(artifacts, {}),
  };
  await putText(cacheEntryKey(store, fp), serializeCacheEntry(entry));
}

async function keys(): Promise<string[]> {
  const listing = sdkObjectListing(cloud.clients.s3, cloud.cloud.endpoints.s3, BUCKET);
  const all = await listAllObjects(listing, 'ci/', signal);
  if (!all.ok) throw new Error(JSON.stringify(all.error));
  return all.value.map((o) => o.key).sort();
}

const cli = (args: readonly string[]) => runCliAsync(args, { cwd: dir });
const noRecipe = (): string[] => [
  '--store',
  STORE,
  '--data-dir',
  join(dir, '.emi-recipe', 'local-cloud'),
];

const FP_OLD = 'a'.repeat(64);
const FP_YOUNG = 'b'.repeat(64);
const FP_STATE = 'c'.repeat(64);
const FP_FORGED = 'd'.repeat(64);
let A: ReturnType<typeof file>;
let B: ReturnType<typeof file>;
let C: ReturnType<typeof file>;
let D: ReturnType<typeof file>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emi-cache-cli-'));
  cpSync(repoPath('test', 'fixtures', 'recipes', 'engine'), dir, { recursive: true });
  recipe = join(dir, 'demo.yaml');
  writeFileSync(recipe, `${readFileSync(recipe, 'utf8')}store: { url: ${STORE} }\n`);
  cloud = await startTestCloud({ dataDir: join(dir, '.emi-recipe', 'local-cloud') });
  const made = await cloud.store.createBucket(BUCKET, signal);
  if (!made.ok) throw new Error(JSON.stringify(made.error));
  A = file('a.img', 300_000);
  B = file('b.img', 200_000);
  C = file('c.img', 100_000);
  D = file('d.img', 50_000);
  for (const f of [A, B, C, D]) await upload(f);
  await putEntry(FP_OLD, 40 * DAY, [A, B]);
  await putEntry(FP_YOUNG, DAY, [B], 'customize');
  await putEntry(FP_STATE, 40 * DAY, [C], 'extract-kernel');
  // An entry under another fingerprint's key (copied, or forged): refused when read.
  await putText(
    cacheEntryKey(store, FP_FORGED),
    serializeCacheEntry({
      format: CACHE_ENTRY_FORMAT,
      kind: 'install-os',
      fingerprint: FP_OLD,
      recipe: 'x',
      created: new Date(Date.now() - 40 * DAY).toISOString(),
      artifacts: {},
      values: {},
      outputDigest: outputDigestOf({}, {}),
    }),
  );
  // A recipe's state names C (its extract-kernel step's artifact).
  await putText(
    'ci/web/state.json',
    JSON.stringify({
      formatVersion: 1,
      steps: { 'extract-kernel': { artifacts: { kernel: { file: 'vmlinuz', sha256: C.sha256 } } } },
    }),
  );
}, 120_000);

afterAll(async () => {
  await cloud.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe('emi-recipe cache', () => {
  test('ls: entries, the forged one unreadable, the blobs no entry names, totals', async () => {
    const ls = await cli(['cache', 'ls', ...noRecipe()]);
    expect(ls.stderr).toBe('');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(`Step cache of ${STORE} (`);
    expect(ls.stdout).toMatch(/^aaaaaaaaaaaa +install-os +debian-minimal +\S+Z +40d +[\d.]+ KiB$/m);
    expect(ls.stdout).toMatch(/^bbbbbbbbbbbb +customize +debian-minimal +\S+Z +1d /m);
    expect(ls.stdout).toMatch(/^dddddddddddd +\? .*unreadable: .*names fingerprint/m);
    expect(ls.stdout).toContain(`sha256:${D.sha256.slice(0, 12)}`);
    expect(ls.stdout).not.toContain(`sha256:${A.sha256.slice(0, 12)}`);
    expect(ls.stdout).toContain('4 entries (1 unreadable), 4 blobs');
    expect(ls.stdout).toContain('1 blob no entry names');

    const json = await cli(['cache', 'ls', recipe, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      store: string;
      entries: { fingerprint: string; storedBytes?: number; unreadable?: string }[];
      orphans: { sha256: string; namedByState: boolean }[];
      totals: { entries: number; blobs: number; orphans: number; unreadableEntries: number };
    };
    expect(doc.store).toBe(STORE);
    expect(doc.totals).toMatchObject({ entries: 4, blobs: 4, orphans: 1, unreadableEntries: 1 });
    expect(doc.orphans).toEqual([{ ...doc.orphans[0], sha256: D.sha256, namedByState: false }]);
    expect(doc.entries.find((e) => e.fingerprint === FP_OLD)?.storedBytes).toBeGreaterThan(0);
  }, 60_000);

  test('prune: a dry run deletes nothing; old entries go, young and state-named blobs stay', async () => {
    const before = await keys();
    const dry = await cli(['cache', 'prune', ...noRecipe(), '--older-than', '30d', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing is deleted.');
    expect(dry.stdout).toMatch(/would remove entry aaaaaaaaaaaa/);
    expect(dry.stdout).toMatch(/would remove entry cccccccccccc/);
    expect(dry.stdout).not.toMatch(/would remove entry bbbbbbbbbbbb/);
    // The forged entry was written now: by its object's time it is young.
    expect(dry.stdout).not.toMatch(/would remove entry dddddddddddd/);
    // A and D: no entry left names them, but they were written since the cutoff.
    expect(dry.stdout).toContain('kept 2 blobs');
    expect(dry.stdout).toContain('Dry run: would remove 2 entries and 0 blobs');
    expect(await keys()).toEqual(before);

    const pruned = await cli(['cache', 'prune', recipe, '--older-than', '30d']);
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/Removed 2 entries and 0 blobs: \S+ (B|KiB) freed\./);
    const left = await keys();
    expect(left).not.toContain(cacheEntryKey(store, FP_OLD));
    expect(left).not.toContain(cacheEntryKey(store, FP_STATE));
    expect(left).toContain(cacheEntryKey(store, FP_YOUNG));
    for (const f of [A, B, C, D]) expect(left).toContain(cacheBlobKey(store, f.sha256));
  }, 60_000);

  test("prune --older-than 0s: everything but the blob a recipe's state names", async () => {
    const dry = await cli([
      'cache',
      'prune',
      ...noRecipe(),
      '--older-than',
      '0s',
      '--dry-run',
      '--json',
    ]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { entries: { key: string }[]; blobs: { key: string }[] };
    expect(plan.blobs.map((b) => b.key).sort()).toEqual(
      [A, B, D].map((f) => cacheBlobKey(store, f.sha256)).sort(),
    );
    const pruned = await cli(['cache', 'prune', ...noRecipe(), '--older-than', '0s']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('Removed 2 entries and 3 blobs');
    expect(await keys()).toEqual([cacheBlobKey(store, C.sha256), 'ci/web/state.json'].sort());
  }, 60_000);

  test('usage: a bad duration names the flag (exit 2); no store says what to give', async () => {
    const bad = await cli(['cache', 'prune', ...noRecipe(), '--older-than', '30 days']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--older-than <duration>' argument '30 days' is invalid");
    const none = await cli(['cache', 'ls']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Give --store s3://BUCKET/PREFIX');
    const missing = await cli(['cache', 'ls', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read recipe '");
    // A recipe without store.url and no --store: its cache is the work directory's.
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, readFileSync(recipe, 'utf8').replace(/^store:.*$/m, ''));
    const noStore = await cli(['cache', 'ls', plain]);
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toContain('has no store.url');
    const both = await cli(['cache', 'ls', recipe, '--cloud', 'local']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--cloud: not with a recipe');
  }, 60_000);
});

describe('the listing port against the embedded cloud', () => {
  test('pages with continuation tokens and deletes in batches', async () => {
    const listing = sdkObjectListing(cloud.clients.s3, cloud.cloud.endpoints.s3, BUCKET);
    const made = Array.from({ length: 23 }, (_, i) => `paging/${String(i).padStart(3, '0')}`);
    for (const key of made) await putText(key, key);
    const pages: number[] = [];
    const counting = {
      ...listing,
      listPage: async (r: Parameters<typeof listing.listPage>[0], s: AbortSignal) => {
        const page = await listing.listPage(r, s);
        if (page.ok) pages.push(page.value.objects.length);
        return page;
      },
    };
    const all = await listAllObjects(counting, 'paging/', signal, 5);
    expect(all.ok && all.value.map((o) => o.key)).toEqual(made);
    expect(pages).toEqual([5, 5, 5, 5, 3]);
    const gone = await deleteAllObjects(listing, [...made, 'paging/never-was'], signal);
    expect(gone.failure).toBeUndefined();
    expect(gone.refused).toEqual([]);
    const after = await listAllObjects(listing, 'paging/', signal);
    expect(after.ok && after.value).toEqual([]);
  }, 60_000);
});
