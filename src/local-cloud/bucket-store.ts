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
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { err, ok, type Result } from '../core/result.js';
import { bucketNameProblem } from './bucket-name.js';
import { DIR_MODE, FILE_MODE, makePrivateDir, writePrivateFile } from './private-files.js';

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
  | { readonly code: 'BadDigest'; readonly expected: string; readonly got: string }
  | { readonly code: 'XAmzContentSHA256Mismatch'; readonly expected: string; readonly got: string }
  | { readonly code: 'IncompleteBody'; readonly expected: number; readonly got: number }
  | { readonly code: 'EntityTooLarge'; readonly limit: number }
  | { readonly code: 'InvalidBucketName'; readonly problem: string }
  | { readonly code: 'Stream'; readonly cause: unknown };

export interface PutOptions {
  readonly owner: string;
  readonly acl: string;
  readonly contentType: string;
  /** Hex MD5 the client announced (Content-MD5), checked after writing. */
  readonly expectedMd5?: string;
  /** Hex SHA-256 the client signed, checked after writing. */
  readonly expectedSha256?: string;
  /** Content-Length (or x-amz-decoded-content-length), checked after writing. */
  readonly expectedLength?: number;
  /** The most bytes the body may have: writing stops (EntityTooLarge) as soon as it has more. */
  readonly maxSize?: number;
}

class TooLarge extends Error {}

const keyId = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Buckets and objects under one directory; one instance per directory per process. */
export class BucketStore {
  readonly #root: string;
  readonly #buckets = new Map<string, { meta: BucketMeta; objects: Map<string, ObjectMeta> }>();

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
   * checked after the bytes are on disk and before they become visible; a mismatch
   * leaves the previous object (if any) untouched.
   */
  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: PutOptions,
  ): Promise<Result<ObjectMeta, StoreError>> {
    const b = this.#buckets.get(bucket);
    if (!b) return err({ code: 'NoSuchBucket' });
    const id = keyId(key);
    const tmpDir = join(this.#root, bucket, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
    const unique = randomBytes(8).toString('hex');
    const tmp = join(tmpDir, `${id}.${unique}`);
    const md5 = createHash('md5');
    const sha1 = createHash('sha1');
    const sha256 = options.expectedSha256 !== undefined ? createHash('sha256') : undefined;
    let size = 0;
    const limit = options.maxSize;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (limit !== undefined && size > limit) {
          callback(new TooLarge());
          return;
        }
        md5.update(chunk);
        sha1.update(chunk);
        sha256?.update(chunk);
        callback(null, chunk);
      },
    });
    // Not pipeline(body, …): a refused body must not destroy the request (and with it the
    // connection the answer goes out on); it is only unpiped.
    finished(body, { writable: false }, (error) => {
      if (error) counter.destroy(error);
    });
    body.pipe(counter);
    try {
      await pipeline(counter, createWriteStream(tmp, { mode: FILE_MODE }));
    } catch (cause) {
      body.unpipe(counter);
      await unlink(tmp).catch(() => undefined);
      if (cause instanceof TooLarge && limit !== undefined)
        return err({ code: 'EntityTooLarge', limit });
      return err({ code: 'Stream', cause });
    }
    const fail = async (error: StoreError): Promise<Result<ObjectMeta, StoreError>> => {
      await unlink(tmp).catch(() => undefined);
      return err(error);
    };
    if (options.expectedLength !== undefined && size !== options.expectedLength)
      return fail({ code: 'IncompleteBody', expected: options.expectedLength, got: size });
    const etag = md5.digest('hex');
    if (options.expectedMd5 !== undefined && options.expectedMd5 !== etag)
      return fail({ code: 'BadDigest', expected: options.expectedMd5, got: etag });
    if (sha256 !== undefined && options.expectedSha256 !== undefined) {
      const got = sha256.digest('hex');
      if (got !== options.expectedSha256)
        return fail({ code: 'XAmzContentSHA256Mismatch', expected: options.expectedSha256, got });
    }
    const dataFile = `${id}.${unique}.data`;
    const objectsDir = join(this.#root, bucket, 'objects');
    await rename(tmp, join(objectsDir, dataFile));
    const meta: ObjectMeta = {
      key,
      etag,
      sha1: sha1.digest('hex'),
      size,
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
  }

  async setAcl(bucket: string, key: string, acl: string): Promise<Result<void, StoreError>> {
    const found = this.head(bucket, key);
    if (!found.ok) return found;
    const meta = { ...found.value, acl };
    await writePrivateFile(
      join(this.#root, bucket, 'objects', `${keyId(key)}.json`),
      JSON.stringify(meta),
    );
    this.#buckets.get(bucket)?.objects.set(key, meta);
    return ok(undefined);
  }

  /** Deletes bucket/key; ok when it did not exist (as S3 does). */
  async delete(bucket: string, key: string): Promise<Result<void, StoreError>> {
    const b = this.#buckets.get(bucket);
    if (!b) return err({ code: 'NoSuchBucket' });
    const object = b.objects.get(key);
    if (!object) return ok(undefined);
    const dir = join(this.#root, bucket, 'objects');
    await unlink(join(dir, `${keyId(key)}.json`)).catch(() => undefined);
    b.objects.delete(key);
    await unlink(join(dir, object.dataFile)).catch(() => undefined);
    return ok(undefined);
  }

  /** Removes an empty tmp directory left by a bucket (tidiness; errors ignored). */
  async tidy(): Promise<void> {
    for (const name of this.#buckets.keys())
      await rmdir(join(this.#root, name, 'tmp')).catch(() => undefined);
  }
}
