// Multipart uploads of the local cloud's S3, on disk beside the bucket's objects. Parts
// are files (never memory); completing concatenates them into a temp file that
// BucketStore.commitFile makes the object in one step (with the write's condition), so no
// reader sees a partial object and an aborted or never-completed upload leaves none.
//
//   <bucket dir>/uploads/<uploadId>/upload.json        {uploadId, key, initiated, owner…}
//   <bucket dir>/uploads/<uploadId>/<n>.json           {partNumber, etag, size, dataFile…}
//   <bucket dir>/uploads/<uploadId>/<n>.<random>.data
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { err, ok, type Result } from '../core/result.js';
import { writeBodyFile, type BodyExpectations } from './body-file.js';
import type { BucketStore, ObjectMeta, ObjectOptions, StoreError } from './bucket-store.js';
import { KeyedMutex } from './key-lock.js';
import {
  multipartEtag,
  validateCompletion,
  type CompletionError,
  type RequestedPart,
} from './multipart-rules.js';
import { FILE_MODE, makePrivateDir, writePrivateFile } from './private-files.js';
import type { WriteCondition } from './s3-conditions.js';

export interface UploadMeta {
  readonly uploadId: string;
  readonly key: string;
  readonly initiated: string;
  readonly owner: string;
  readonly acl: string;
  readonly contentType: string;
}

export interface PartMeta {
  readonly partNumber: number;
  /** MD5 hex, no quotes. */
  readonly etag: string;
  readonly size: number;
  readonly lastModified: string;
  readonly dataFile: string;
}

export type MultipartError =
  StoreError | CompletionError | { readonly code: 'NoSuchUpload'; readonly uploadId: string };

const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** Multipart uploads of every bucket of one BucketStore. */
export class MultipartStore {
  readonly #objects: BucketStore;
  /** One lock per upload: parts land, a completion or an abort runs, one at a time. */
  readonly #locks = new KeyedMutex();
  readonly #minPartSize: number | undefined;

  constructor(objects: BucketStore, options: { readonly minPartSize?: number } = {}) {
    this.#objects = objects;
    this.#minPartSize = options.minPartSize;
  }

  #uploadsDir(bucket: string): Result<string, MultipartError> {
    const dir = this.#objects.bucketDir(bucket);
    return dir === undefined ? err({ code: 'NoSuchBucket' }) : ok(join(dir, 'uploads'));
  }

  /** The upload's directory and metadata, when `uploadId` is an upload of bucket/key. */
  async #upload(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<Result<{ dir: string; meta: UploadMeta }, MultipartError>> {
    const uploads = this.#uploadsDir(bucket);
    if (!uploads.ok) return uploads;
    if (!UPLOAD_ID.test(uploadId)) return err({ code: 'NoSuchUpload', uploadId });
    const dir = join(uploads.value, uploadId);
    try {
      const meta = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as UploadMeta;
      return meta.key === key ? ok({ dir, meta }) : err({ code: 'NoSuchUpload', uploadId });
    } catch {
      return err({ code: 'NoSuchUpload', uploadId });
    }
  }

  /** Starts an upload of bucket/key (CreateMultipartUpload). */
  async create(
    bucket: string,
    key: string,
    options: Omit<ObjectOptions, 'condition'>,
  ): Promise<Result<UploadMeta, MultipartError>> {
    const uploads = this.#uploadsDir(bucket);
    if (!uploads.ok) return uploads;
    const uploadId = randomBytes(16).toString('hex');
    const meta: UploadMeta = {
      uploadId,
      key,
      initiated: new Date().toISOString(),
      owner: options.owner,
      acl: options.acl,
      contentType: options.contentType,
    };
    await makePrivateDir(join(uploads.value, uploadId));
    await writePrivateFile(join(uploads.value, uploadId, 'upload.json'), JSON.stringify(meta));
    return ok(meta);
  }

  /** Stores one part (UploadPart); a part uploaded again replaces the earlier one. */
  async uploadPart(
    target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
    partNumber: number,
    body: Readable,
    expect: BodyExpectations,
  ): Promise<Result<PartMeta, MultipartError>> {
    const { bucket, key, uploadId } = target;
    const found = await this.#upload(bucket, key, uploadId);
    if (!found.ok) return found;
    const unique = randomBytes(8).toString('hex');
    const tmp = join(found.value.dir, `.tmp-${unique}`);
    const written = await writeBodyFile(body, tmp, expect);
    if (!written.ok) {
      // Aborted while the body was arriving (its directory, and so the file, gone).
      const gone =
        written.error.code === 'Stream' && !(await this.#upload(bucket, key, uploadId)).ok;
      return gone ? err({ code: 'NoSuchUpload', uploadId }) : written;
    }
    return this.#locks.run(uploadId, async () => {
      // Aborted (or completed) while the body was arriving: the part has nowhere to go.
      const still = await this.#upload(bucket, key, uploadId);
      if (!still.ok) {
        await unlink(tmp).catch(() => undefined);
        return still;
      }
      const dir = still.value.dir;
      const previous = (await this.#parts(dir)).get(partNumber);
      const part: PartMeta = {
        partNumber,
        etag: written.value.md5,
        size: written.value.size,
        lastModified: new Date().toISOString(),
        dataFile: `${String(partNumber)}.${unique}.data`,
      };
      await rename(tmp, join(dir, part.dataFile));
      await writePrivateFile(join(dir, `${String(partNumber)}.json`), JSON.stringify(part));
      if (previous) await unlink(join(dir, previous.dataFile)).catch(() => undefined);
      return ok(part);
    });
  }

  /** The parts of an upload directory, by number. */
  async #parts(dir: string): Promise<Map<number, PartMeta>> {
    const parts = new Map<number, PartMeta>();
    for (const file of await readdir(dir)) {
      if (!/^\d+\.json$/.test(file)) continue;
      const part = JSON.parse(await readFile(join(dir, file), 'utf8')) as PartMeta;
      parts.set(part.partNumber, part);
    }
    return parts;
  }

  /** The upload and its parts in part-number order (ListParts). */
  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<Result<{ upload: UploadMeta; parts: readonly PartMeta[] }, MultipartError>> {
    const found = await this.#upload(bucket, key, uploadId);
    if (!found.ok) return found;
    const parts = [...(await this.#parts(found.value.dir)).values()];
    parts.sort((a, b) => a.partNumber - b.partNumber);
    return ok({ upload: found.value.meta, parts });
  }

  /** Uploads in progress whose key starts with `prefix`, by key then initiation (ListMultipartUploads). */
  async list(
    bucket: string,
    prefix: string,
  ): Promise<Result<readonly UploadMeta[], MultipartError>> {
    const uploads = this.#uploadsDir(bucket);
    if (!uploads.ok) return uploads;
    const out: UploadMeta[] = [];
    for (const id of await readdir(uploads.value).catch(() => [] as string[])) {
      if (!UPLOAD_ID.test(id)) continue;
      try {
        const meta = JSON.parse(
          await readFile(join(uploads.value, id, 'upload.json'), 'utf8'),
        ) as UploadMeta;
        if (meta.key.startsWith(prefix)) out.push(meta);
      } catch {
        // Completed or aborted meanwhile.
      }
    }
    out.sort(
      (a, b) =>
        Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) ||
        a.initiated.localeCompare(b.initiated),
    );
    return ok(out);
  }

  /** Discards the upload and its parts (AbortMultipartUpload). */
  async abort(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<Result<void, MultipartError>> {
    return this.#locks.run(uploadId, async () => {
      const found = await this.#upload(bucket, key, uploadId);
      if (!found.ok) return found;
      await rm(found.value.dir, { recursive: true, force: true, maxRetries: 3 });
      return ok(undefined);
    });
  }

  /**
   * Makes the object from the parts named (CompleteMultipartUpload), if `condition` holds
   * when it would replace the key's current object. The upload is gone afterwards; a
   * refused completion (bad part list, condition) leaves it for another try or an abort.
   */
  async complete(
    target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
    requested: readonly RequestedPart[],
    condition: WriteCondition | undefined,
  ): Promise<Result<ObjectMeta, MultipartError>> {
    const { bucket, key, uploadId } = target;
    return this.#locks.run(uploadId, async () => {
      const found = await this.#upload(bucket, key, uploadId);
      if (!found.ok) return found;
      const { dir, meta } = found.value;
      const chosen = validateCompletion(requested, await this.#parts(dir), this.#minPartSize);
      if (!chosen.ok) return chosen;
      const tmp = await this.#objects.tempPath(bucket, key);
      const sha1 = createHash('sha1');
      // One source of all parts in order (a pipeline per part into one shared stream would
      // add listeners to it for every part: Node warns past ten).
      const files = chosen.value.map((part) => join(dir, part.dataFile));
      async function* parts(): AsyncGenerator<Buffer> {
        for (const file of files) {
          for await (const chunk of createReadStream(file)) {
            sha1.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        }
      }
      await pipeline(parts(), createWriteStream(tmp, { mode: FILE_MODE }));
      const committed = await this.#objects.commitFile(bucket, key, tmp, {
        owner: meta.owner,
        acl: meta.acl,
        contentType: meta.contentType,
        etag: multipartEtag(chosen.value.map((p) => p.etag)),
        sha1: sha1.digest('hex'),
        size: chosen.value.reduce((sum, p) => sum + p.size, 0),
        ...(condition !== undefined ? { condition } : {}),
      });
      if (committed.ok) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      return committed;
    });
  }
}
