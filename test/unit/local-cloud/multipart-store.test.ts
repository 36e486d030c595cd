// MultipartStore on disk: uploads survive a reopen of the store (as S3 keeps them until
// aborted), a part arriving for an aborted upload is NoSuchUpload and leaves no file, a
// part uploaded again replaces the earlier one, and upload ids are never paths.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BucketStore } from '../../../src/local-cloud/bucket-store.js';
import { MultipartStore } from '../../../src/local-cloud/multipart-store.js';

let root: string;
const owner = { owner: 'o', acl: 'private', contentType: 'x' };
const body = (text: string): Readable => Readable.from([Buffer.from(text)]);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'emi-multipart-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function open(): Promise<{ store: BucketStore; uploads: MultipartStore }> {
  const store = await BucketStore.open(root);
  if (!store.bucket('bkt')) await store.createBucket('bkt', 'o', 'private');
  return { store, uploads: new MultipartStore(store, { minPartSize: 1 }) };
}

describe('MultipartStore', () => {
  test('an upload and its parts survive a reopen; completing then works', async () => {
    const first = await open();
    const created = await first.uploads.create('bkt', 'k', owner);
    if (!created.ok) throw new Error('create failed');
    const target = { bucket: 'bkt', key: 'k', uploadId: created.value.uploadId };
    const p1 = await first.uploads.uploadPart(target, 1, body('hello '), {});
    const again = await open();
    const p2 = await again.uploads.uploadPart(target, 2, body('world'), {});
    if (!p1.ok || !p2.ok) throw new Error('part failed');
    const listed = await again.uploads.list('bkt', '');
    expect(listed.ok && listed.value.map((u) => u.uploadId)).toEqual([created.value.uploadId]);
    const done = await again.uploads.complete(
      target,
      [
        { partNumber: 1, etag: p1.value.etag },
        { partNumber: 2, etag: p2.value.etag },
      ],
      undefined,
    );
    expect(done.ok && done.value.etag).toMatch(/^[0-9a-f]{32}-2$/);
    const bytes = await again.store.readAll('bkt', 'k');
    expect(bytes.ok && bytes.value.toString()).toBe('hello world');
    expect(await readdir(join(root, 'bkt', 'uploads'))).toEqual([]);
  });

  test('a part still arriving when the upload is aborted is NoSuchUpload and leaves nothing', async () => {
    const { uploads } = await open();
    const created = await uploads.create('bkt', 'k', owner);
    if (!created.ok) throw new Error('create failed');
    const target = { bucket: 'bkt', key: 'k', uploadId: created.value.uploadId };
    const slow = new PassThrough();
    slow.write('partial ');
    const part = uploads.uploadPart(target, 1, slow, {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await uploads.abort('bkt', 'k', target.uploadId)).ok).toBe(true);
    slow.end('rest');
    expect(await part).toEqual({
      ok: false,
      error: { code: 'NoSuchUpload', uploadId: target.uploadId },
    });
    expect(await readdir(join(root, 'bkt', 'uploads'))).toEqual([]);
  });

  test('a part uploaded again replaces the earlier one; its old data file is gone', async () => {
    const { uploads } = await open();
    const created = await uploads.create('bkt', 'k', owner);
    if (!created.ok) throw new Error('create failed');
    const target = { bucket: 'bkt', key: 'k', uploadId: created.value.uploadId };
    await uploads.uploadPart(target, 1, body('one'), {});
    await uploads.uploadPart(target, 1, body('uno'), {});
    const parts = await uploads.listParts('bkt', 'k', target.uploadId);
    expect(parts.ok && parts.value.parts.map((p) => p.size)).toEqual([3]);
    const files = await readdir(join(root, 'bkt', 'uploads', target.uploadId));
    expect(files.filter((f) => f.endsWith('.data'))).toHaveLength(1);
  });

  test('upload ids that are not ours (paths, other keys) are NoSuchUpload', async () => {
    const { uploads } = await open();
    const created = await uploads.create('bkt', 'k', owner);
    if (!created.ok) throw new Error('create failed');
    for (const [key, uploadId] of [
      ['k', '../../bkt'],
      ['k', '0'.repeat(32)],
      ['other', created.value.uploadId],
    ] as const)
      expect(await uploads.listParts('bkt', key, uploadId)).toEqual({
        ok: false,
        error: { code: 'NoSuchUpload', uploadId },
      });
    expect(await uploads.listParts('nobkt', 'k', created.value.uploadId)).toEqual({
      ok: false,
      error: { code: 'NoSuchBucket' },
    });
  });
});
