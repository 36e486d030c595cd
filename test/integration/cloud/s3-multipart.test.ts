// Multipart uploads and DeleteObjects against the embedded cloud over real HTTP: the AWS
// SDK's raw commands (create, parts, list, complete with S3's ETag, abort; S3's refusals
// of a bad part list; a conditional completion), DeleteObjects (quiet, per-key errors, a
// missing checksum), and awscli's default `aws s3 cp` of a 30 MiB file (multipart above
// 8 MiB, ranged GETs back) byte-identical.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { runAwsCli, startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(180_000);
const BUCKET = 'multipart';
const MiB = 1024 * 1024;
let t: TestCloud;
let work: string;

beforeAll(async () => {
  t = await startTestCloud();
  work = await mkdtemp(join(tmpdir(), 'emi-s3-multipart-'));
  await t.clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await t.stop();
  await rm(work, { recursive: true, force: true });
});

/** 'ok' or '<error name> <status>' of an SDK call. */
async function outcome(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name ?? '?'} ${String(e.$metadata?.httpStatusCode)}`;
  }
}

const md5 = (data: Buffer): Buffer => createHash('md5').update(data).digest();

async function create(Key: string): Promise<string> {
  const created = await t.clients.s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }),
  );
  return created.UploadId ?? '';
}

async function upload(
  Key: string,
  UploadId: string,
  PartNumber: number,
  Body: Buffer,
): Promise<CompletedPart> {
  const part = await t.clients.s3.send(
    new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber, Body }),
  );
  return { PartNumber, ETag: part.ETag ?? '' };
}

const complete = (
  Key: string,
  UploadId: string,
  Parts: CompletedPart[],
  extra: { IfNoneMatch?: string; IfMatch?: string } = {},
) =>
  t.clients.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key,
      UploadId,
      MultipartUpload: { Parts },
      ...extra,
    }),
  );

async function objectBytes(Key: string): Promise<Buffer> {
  const got = await t.clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  return Buffer.from((await got.Body?.transformToByteArray()) ?? []);
}

describe('multipart uploads with the AWS SDK', () => {
  test('create, parts out of order, ListParts, complete: S3 ETag, bytes in order, the upload gone', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const id = await create('big/object.bin');
    const done = await Promise.all(
      [3, 1, 2].map((n) => upload('big/object.bin', id, n, parts[n - 1] as Buffer)),
    );
    expect(
      await outcome(() =>
        t.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/object.bin' })),
      ),
    ).toBe('NotFound 404');
    const listed = await t.clients.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'big/object.bin', UploadId: id }),
    );
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(
      parts.map((p, i) => [i + 1, p.length, `"${md5(p).toString('hex')}"`]),
    );
    const page = await t.clients.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'big/object.bin', UploadId: id, MaxParts: 2 }),
    );
    expect([page.Parts?.length, page.IsTruncated, page.NextPartNumberMarker]).toEqual([
      2,
      true,
      '2',
    ]);
    const uploads = await t.clients.s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'big/' }),
    );
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['big/object.bin', id]]);

    const result = await complete(
      'big/object.bin',
      id,
      done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0)),
    );
    const expectedEtag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    expect(result.ETag).toBe(expectedEtag);
    expect((await objectBytes('big/object.bin')).equals(Buffer.concat(parts))).toBe(true);
    const head = await t.clients.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/object.bin' }),
    );
    expect([head.ETag, head.ContentLength]).toEqual([expectedEtag, 10 * MiB + 1234]);
    expect(
      await outcome(() =>
        t.clients.s3.send(
          new ListPartsCommand({ Bucket: BUCKET, Key: 'big/object.bin', UploadId: id }),
        ),
      ),
    ).toBe('NoSuchUpload 404');
    const after = await t.clients.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(after.Uploads ?? []).toEqual([]);
    expect(await readdir(join(t.dataDir, 's3', BUCKET, 'uploads'))).toEqual([]);
  });

  test("S3's refusals: part order, unknown part or ETag, a small part before the last, no such upload", async () => {
    const small = randomBytes(1024);
    const id = await create('refused');
    const p1 = await upload('refused', id, 1, small);
    const p2 = await upload('refused', id, 2, small);
    expect(await outcome(() => complete('refused', id, [p2, p1]))).toBe('InvalidPartOrder 400');
    expect(
      await outcome(() => complete('refused', id, [p1, { PartNumber: 3, ETag: p1.ETag ?? '' }])),
    ).toBe('InvalidPart 400');
    expect(
      await outcome(() =>
        complete('refused', id, [
          { PartNumber: 1, ETag: p2.ETag === p1.ETag ? '"00"' : (p2.ETag ?? '') },
        ]),
      ),
    ).toBe('InvalidPart 400');
    expect(await outcome(() => complete('refused', id, [p1, p2]))).toBe('EntityTooSmall 400');
    expect(await outcome(() => upload('refused', id, 10_001, small))).toBe('InvalidArgument 400');
    expect(await outcome(() => upload('refused', 'f'.repeat(32), 1, small))).toBe(
      'NoSuchUpload 404',
    );
    expect(await outcome(() => upload('another-key', id, 1, small))).toBe('NoSuchUpload 404');
    // A refused completion leaves the upload: one part alone is a valid object.
    await complete('refused', id, [p1]);
    expect((await objectBytes('refused')).equals(small)).toBe(true);
  });

  test('abort: the parts are gone, no object appears, the upload id is unknown afterwards', async () => {
    const id = await create('aborted');
    const part = await upload('aborted', id, 1, randomBytes(5 * MiB));
    await t.clients.s3.send(
      new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'aborted', UploadId: id }),
    );
    expect(await outcome(() => complete('aborted', id, [part]))).toBe('NoSuchUpload 404');
    expect(
      await outcome(() =>
        t.clients.s3.send(
          new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'aborted', UploadId: id }),
        ),
      ),
    ).toBe('NoSuchUpload 404');
    expect(
      await outcome(() =>
        t.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'aborted' })),
      ),
    ).toBe('NotFound 404');
    expect(await readdir(join(t.dataDir, 's3', BUCKET, 'uploads'))).toEqual([]);
  });

  test('CompleteMultipartUpload with If-Match: a stale ETag is refused, the current one replaces', async () => {
    const v1 = await t.clients.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v1' }),
    );
    const v2 = await t.clients.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'cas', Body: 'v2' }),
    );
    const id = await create('cas');
    const part = await upload('cas', id, 1, Buffer.from('v3'));
    expect(await outcome(() => complete('cas', id, [part], { IfMatch: v1.ETag ?? '' }))).toBe(
      'PreconditionFailed 412',
    );
    expect((await objectBytes('cas')).toString()).toBe('v2');
    expect(await outcome(() => complete('cas', id, [part], { IfMatch: v2.ETag ?? '' }))).toBe('ok');
    expect((await objectBytes('cas')).toString()).toBe('v3');
  });

  test('CompleteMultipartUpload with If-None-Match: * is refused when the key exists', async () => {
    await t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'taken', Body: 'first' }));
    const id = await create('taken');
    const part = await upload('taken', id, 1, Buffer.from('second'));
    expect(await outcome(() => complete('taken', id, [part], { IfNoneMatch: '*' }))).toBe(
      'PreconditionFailed 412',
    );
    expect((await objectBytes('taken')).toString()).toBe('first');
    const fresh = await create('fresh');
    const freshPart = await upload('fresh', fresh, 1, Buffer.from('new'));
    expect(await outcome(() => complete('fresh', fresh, [freshPart], { IfNoneMatch: '*' }))).toBe(
      'ok',
    );
  });
  test('readers during a completion see the old object or the whole new one, never a part', async () => {
    await t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swap', Body: 'old' }));
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const id = await create('swap');
    const done = await Promise.all(parts.map((p, i) => upload('swap', id, i + 1, p)));
    const whole = Buffer.concat(parts);
    const state = { finished: false };
    const completion = complete('swap', id, done).finally(() => {
      state.finished = true;
    });
    const seen = new Set<string>();
    do {
      const bytes = await objectBytes('swap');
      seen.add(
        bytes.equals(whole)
          ? 'new'
          : bytes.toString() === 'old'
            ? 'old'
            : `other ${String(bytes.length)}`,
      );
    } while (!state.finished);
    await completion;
    seen.add((await objectBytes('swap')).equals(whole) ? 'new' : 'not new');
    expect([...seen].filter((s) => s !== 'old' && s !== 'new')).toEqual([]);
    expect(seen.has('new')).toBe(true);
  });
});

describe('DeleteObjects', () => {
  test('deletes the keys (missing ones count as deleted), reports per-key errors, Quiet hides successes', async () => {
    for (const Key of ['d/1', 'd/2', 'd/3'])
      await t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const loud = await t.clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/never' }, { Key: 'd/2', VersionId: 'v9' }] },
      }),
    );
    expect(loud.Deleted?.map((d) => d.Key)).toEqual(['d/1', 'd/never']);
    expect(loud.Errors?.map((e) => [e.Key, e.Code])).toEqual([['d/2', 'NoSuchVersion']]);
    const quiet = await t.clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Quiet: true, Objects: [{ Key: 'd/2' }, { Key: 'd/3' }] },
      }),
    );
    expect([quiet.Deleted ?? [], quiet.Errors ?? []]).toEqual([[], []]);
    const left = await t.clients.s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'd/' }),
    );
    expect(left.KeyCount).toBe(0);
  });

  test('awscli s3api delete-objects (its own checksum header) works too', async () => {
    await t.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cli/x', Body: 'x' }));
    const r = await runAwsCli(t.cloud, [
      's3api',
      'delete-objects',
      '--bucket',
      BUCKET,
      '--delete',
      '{"Objects":[{"Key":"cli/x"}]}',
    ]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toMatchObject({ Deleted: [{ Key: 'cli/x' }] });
  });
});

describe("awscli's default aws s3 cp", () => {
  test('a 30 MiB file up (multipart) and back (ranged GETs) byte-identical', async () => {
    const file = join(work, 'thirty.bin');
    const data = randomBytes(30 * MiB);
    await writeFile(file, data);
    const config = join(work, 'aws-config');
    await writeFile(config, '[default]\ns3 =\n  addressing_style = path\n');
    const env = { AWS_CONFIG_FILE: config };
    const up = await runAwsCli(
      t.cloud,
      ['s3', 'cp', '--only-show-errors', file, `s3://${BUCKET}/cli/thirty.bin`],
      env,
    );
    expect([up.code, up.stderr]).toEqual([0, '']);
    const head = await t.clients.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: 'cli/thirty.bin' }),
    );
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-4"$/);
    expect(head.ContentLength).toBe(30 * MiB);
    const back = join(work, 'back.bin');
    const down = await runAwsCli(
      t.cloud,
      ['s3', 'cp', '--only-show-errors', `s3://${BUCKET}/cli/thirty.bin`, back],
      env,
    );
    expect([down.code, down.stderr]).toEqual([0, '']);
    expect((await readFile(back)).equals(data)).toBe(true);
  });
});
