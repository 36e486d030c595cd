// The local cloud's object storage on disk: buckets, objects (data + metadata), canned
// ACLs. Crash-safe: data goes to a temp file, is renamed to a unique name, then the
// metadata naming it is replaced atomically; an object exists iff its metadata does.
// Private to the user running the cloud: directories 0700, files 0600. Keys never
// become paths (files are named by the key's SHA-256), bucket names only valid ones.
//
//   <root>/<bucket>/bucket.json
//   <root>/<bucket>/objects/<sha256(key)>.json           {key, etag, size, sha1, acl, dataFile…}
//   <root>/<bucket>/objects/<sha256(key)>.<random>.data
//   <root>/<bucket>/tmp/                                  uploads in progress
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { err, ok, type Result } from '../core/result.js';
import { bucketNameProblem } from './bucket-name.js';
import { writeBodyFile, type BodyError, type BodyExpectations } from './body-file.js';
import { KeyedMutex } from './key-lock.js';
import { DIR_MODE, makePrivateDir, writePrivateFile } from './private-files.js';
import { checkWriteCondition, type ConditionError, type WriteCondition } from './s3-conditions.js';

export interface ObjectMeta {
  readonly key: string;
  /** MD5 hex (no quotes). */
  readonly etag: string;
  readonly sha1: string;
  readonly size: number;
  readonly acl: string;
  readonly contentType: string;
  readonly lastModified: string;
  readonly owner: string;
  readonly dataFile: string;
}

export interface BucketMeta {
  readonly name: string;
  readonly created: string;
  readonly owner: string;
  readonly acl: string;
}

export type StoreError =
  | { readonly code: 'NoSuchBucket' | 'NoSuchKey' | 'BucketNotEmpty' | 'BucketAlreadyOwnedByYou' }
  | BodyError
  | ConditionError
  | { readonly code: 'InvalidBucketName'; readonly problem: string };

/** How a new object is stored: who owns it, its ACL and type, what it must replace. */
export interface ObjectOptions {
  readonly owner: string;
  readonly acl: string;
  readonly contentType: string;
  /** What the key's current object must be for the write to happen (If-None-Match / If-Match). */
  readonly condition?: WriteCondition;
}

export type PutOptions = ObjectOptions & BodyExpectations;

/** A finished data file's facts, as commitFile records them. */
export interface CommitOptions extends ObjectOptions {
  /** The ETag without quotes: an MD5, or a multipart upload's `<md5>-<parts>`. */
  readonly etag: string;
  readonly sha1: string;
  readonly size: number;
}

const keyId = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Buckets and objects under one directory; one instance per directory per process. */
export class BucketStore {
  readonly #root: string;
  readonly #buckets = new Map<string, { meta: BucketMeta; objects: Map<string, ObjectMeta> }>();
  readonly #locks = new KeyedMutex();

  private constructor(root: string) {
    this.#root = root;
  }

  /** Opens (creating) the store at `root` and loads every bucket's index into memory. */
  static async open(root: string): Promise<BucketStore> {
    await makePrivateDir(root);
    const store = new BucketStore(root);
    for (const name of await readdir(root)) {
      let meta: BucketMeta;
      try {
        meta = JSON.parse(await readFile(join(root, name, 'bucket.json'), 'utf8')) as BucketMeta;
      } catch {
        continue;
      }
      const objects = new Map<string, ObjectMeta>();
      const dir = join(root, name, 'objects');
      const files = await readdir(dir).catch(() => [] as string[]);
      const referenced = new Set<string>();
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        try {
          const object = JSON.parse(await readFile(join(dir, file), 'utf8')) as ObjectMeta;
          objects.set(object.key, object);
          referenced.add(object.dataFile);
        } catch {
          // A metadata file torn by a crash cannot exist (atomic replace); skip anything foreign.
        }
      }
      // Data files no metadata names are leftovers of interrupted replacements.
      for (const file of files.filter((f) => f.endsWith('.data') && !referenced.has(f)))
        await unlink(join(dir, file)).catch(() => undefined);
      await rm(join(root, name, 'tmp'), { recursive: true, force: true });
      store.#buckets.set(name, { meta, objects });
    }
    return store;
  }

  listBuckets(): readonly BucketMeta[] {
    return [...this.#buckets.values()]
      .map((b) => b.meta)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  bucket(name: string): BucketMeta | undefined {
    return this.#buckets.get(name)?.meta;
  }

  async createBucket(
    name: string,
    owner: string,
    acl: string,
  ): Promise<Result<BucketMeta, StoreError>> {
    const problem = bucketNameProblem(name);
    if (problem !== undefined) return err({ code: 'InvalidBucketName', problem });
    const existing = this.#buckets.get(name);
    if (existing) return err({ code: 'BucketAlreadyOwnedByYou' });
    const meta: BucketMeta = { name, owner, acl, created: new Date().toISOString() };
    await makePrivateDir(join(this.#root, name));
    await makePrivateDir(join(this.#root, name, 'objects'));
    await writePrivateFile(join(this.#root, name, 'bucket.json'), JSON.stringify(meta));
    this.#buckets.set(name, { meta, objects: new Map() });
    return ok(meta);
  }

  async deleteBucket(name: string): Promise<Result<void, StoreError>> {
    const bucket = this.#buckets.get(name);
    if (!bucket) return err({ code: 'NoSuchBucket' });
    if (bucket.objects.size > 0) return err({ code: 'BucketNotEmpty' });
    this.#buckets.delete(name);
    await rm(join(this.#root, name), { recursive: true, force: true });
    return ok(undefined);
  }

  /** Objects of a bucket with `prefix`, sorted by key (S3 order: UTF-8 binary). */
  list(bucket: string, prefix: string): Result<readonly ObjectMeta[], StoreError> {
    const b = this.#buckets.get(bucket);
    if (!b) return err({ code: 'NoSuchBucket' });
    const out = [...b.objects.values()].filter((o) => o.key.startsWith(prefix));
    out.sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
    return ok(out);
  }

  head(bucket: string, key: string): Result<ObjectMeta, StoreError> {
    const b = this.#buckets.get(bucket);
    if (!b) return err({ code: 'NoSuchBucket' });
    const object = b.objects.get(key);
    return object ? ok(object) : err({ code: 'NoSuchKey' });
  }

  /** The object's bytes (optionally a byte range, inclusive). */
  read(
    bucket: string,
    key: string,
    range?: { start: number; end: number },
  ): Result<{ meta: ObjectMeta; stream: Readable }, StoreError> {
    const found = this.head(bucket, key);
    if (!found.ok) return found;
    const path = join(this.#root, bucket, 'objects', found.value.dataFile);
    const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    return ok({ meta: found.value, stream });
  }

  /** The object's bytes in memory (manifests; small objects only). */
  async readAll(bucket: string, key: string): Promise<Result<Buffer, StoreError>> {
    const found = this.head(bucket, key);
    if (!found.ok) return found;
    return ok(await readFile(join(this.#root, bucket, 'objects', found.value.dataFile)));
  }

  /**
   * Stores `body` as bucket/key. The digests and length the client announced are
   * checked after the bytes are on disk and before they become visible; a mismatch, or
   * a `condition` that does not hold when the object would replace the current one,
   * leaves the previous object (if any) untouched.
   */
  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: PutOptions,
  ): Promise<Result<ObjectMeta, StoreError>> {
    if (!this.#buckets.has(bucket)) return err({ code: 'NoSuchBucket' });
    const tmp = await this.tempPath(bucket, key);
    const written = await writeBodyFile(body, tmp, options);
    if (!written.ok) return written;
    return this.commitFile(bucket, key, tmp, {
      etag: written.value.md5,
      sha1: written.value.sha1,
      size: written.value.size,
      ...options,
    });
  }

  /** A fresh file name in bucket's tmp directory for data that will become key. */
  async tempPath(bucket: string, key: string): Promise<string> {
    const tmpDir = join(this.#root, bucket, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
    return join(tmpDir, `${keyId(key)}.${randomBytes(8).toString('hex')}`);
  }

  /**
   * Makes the file `tmp` (in this store's tmp directory) the object bucket/key, atomically:
   * under the key's lock, `condition` is checked against the current object and, when it
   * holds, the data is renamed in and the metadata naming it replaced. On any refusal
   * `tmp` is removed and the current object stays.
   */
  async commitFile(
    bucket: string,
    key: string,
    tmp: string,
    options: CommitOptions,
  ): Promise<Result<ObjectMeta, StoreError>> {
    return this.#locks.run(`${bucket}/${key}`, async () => {
      const b = this.#buckets.get(bucket);
      const checked = b
        ? checkWriteCondition(b.objects.get(key), options.condition)
        : err<StoreError>({ code: 'NoSuchBucket' });
      if (!b || !checked.ok) {
        await unlink(tmp).catch(() => undefined);
        return checked.ok ? err({ code: 'NoSuchBucket' }) : checked;
      }
      const id = keyId(key);
      const dataFile = `${id}.${randomBytes(8).toString('hex')}.data`;
      const objectsDir = join(this.#root, bucket, 'objects');
      await rename(tmp, join(objectsDir, dataFile));
      const meta: ObjectMeta = {
        key,
        etag: options.etag,
        sha1: options.sha1,
        size: options.size,
        acl: options.acl,
        contentType: options.contentType,
        lastModified: new Date().toISOString(),
        owner: options.owner,
        dataFile,
      };
      await writePrivateFile(join(objectsDir, `${id}.json`), JSON.stringify(meta));
      const previous = b.objects.get(key);
      b.objects.set(key, meta);
      if (previous && previous.dataFile !== dataFile)
        await unlink(join(objectsDir, previous.dataFile)).catch(() => undefined);
      return ok(meta);
    });
  }

  async setAcl(bucket: string, key: string, acl: string): Promise<Result<void, StoreError>> {
    return this.#locks.run(`${bucket}/${key}`, async () => {
      const found = this.head(bucket, key);
      if (!found.ok) return found;
      const meta = { ...found.value, acl };
      await writePrivateFile(
        join(this.#root, bucket, 'objects', `${keyId(key)}.json`),
        JSON.stringify(meta),
      );
      this.#buckets.get(bucket)?.objects.set(key, meta);
      return ok(undefined);
    });
  }

  /** Deletes bucket/key; ok when it did not exist (as S3 does). */
  async delete(bucket: string, key: string): Promise<Result<void, StoreError>> {
    return this.#locks.run(`${bucket}/${key}`, async () => {
      const b = this.#buckets.get(bucket);
      if (!b) return err({ code: 'NoSuchBucket' });
      const object = b.objects.get(key);
      if (!object) return ok(undefined);
      const dir = join(this.#root, bucket, 'objects');
      await unlink(join(dir, `${keyId(key)}.json`)).catch(() => undefined);
      b.objects.delete(key);
      await unlink(join(dir, object.dataFile)).catch(() => undefined);
      return ok(undefined);
    });
  }

  /** Removes an empty tmp directory left by a bucket (tidiness; errors ignored). */
  async tidy(): Promise<void> {
    for (const name of this.#buckets.keys())
      await rmdir(join(this.#root, name, 'tmp')).catch(() => undefined);
  }
}
