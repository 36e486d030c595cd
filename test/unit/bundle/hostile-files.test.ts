// Hostile files around a bundle: symlinks planted at temporary names (never followed or
// overwritten), parts that are links to /dev/zero or directories (never read), parts longer
// than the manifest says, aborts in the middle of a read, and tar streams whose headers or
// trailing bytes would make the extractor consume an endless stream.
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { openExclusive, writeFileAtomic } from '../../../src/core/atomic-write.js';
import type { ManifestPart } from '../../../src/bundle/manifest.js';
import { readParts } from '../../../src/bundle/part-reader.js';
import { prepareUnbundle } from '../../../src/bundle/unbundle-checks.js';
import { PartWriter } from '../../../src/bundle/part-writer.js';
import { SparseFileWriter } from '../../../src/bundle/sparse-file-writer.js';
import { TarExtractor, TAIL_LIMIT, UnbundleStop } from '../../../src/bundle/tar-extractor.js';
import { padding, tarHeaderBlocks } from '../../../src/bundle/tar-format.js';
import { goldenKey } from '../../helpers/golden.js';

let dir: string;
let victim: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hostile-files-'));
  victim = join(dir, 'victim');
  writeFileSync(victim, 'precious');
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

describe('temporary files are always new files', () => {
  test('openExclusive refuses a planted symlink, a dangling one and an existing file', async () => {
    symlinkSync(victim, join(dir, 'link'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    for (const name of ['link', 'dangling', 'victim'])
      await expect(openExclusive(join(dir, name))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual(['dangling', 'link', 'victim']);
  });

  test('the sparse writer does not write through a symlink at its path', async () => {
    symlinkSync(victim, join(dir, '.img.tmp'));
    await expect(SparseFileWriter.create(join(dir, '.img.tmp'))).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });

  test('the part writer does not follow symlinks planted at the predictable temp names', async () => {
    for (let i = 0; i < 3; i += 1)
      symlinkSync(victim, join(dir, `.img.part.0${i}.tmp-${process.pid}`));
    const writer = new PartWriter({ dir, prefix: 'img', partSize: 1000, durable: false });
    const data = randomBytes(2500);
    await writer.write(data);
    const parts = await writer.finish();
    await writer.commit();
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(parts.map((p) => p.sha1)).toEqual([
      sha1(data.subarray(0, 1000)),
      sha1(data.subarray(1000, 2000)),
      sha1(data.subarray(2000)),
    ]);
    expect(readFileSync(join(dir, 'img.part.02'))).toEqual(data.subarray(2000));
  });

  test('an atomic write does not follow a symlink at a guessable temp name', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(1234);
    symlinkSync(victim, join(dir, `.state.json.tmp-${process.pid}-1234`));
    await writeFileAtomic(join(dir, 'state.json'), '{}');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe('{}');
  });
});

describe('reading parts', () => {
  const part = (filename: string, bytes: Uint8Array): ManifestPart => ({
    filename,
    digest: sha1(bytes),
  });
  async function drain(
    parts: readonly ManifestPart[],
    options: { limit: number; signal?: AbortSignal; onChunk?: () => void },
  ): Promise<unknown> {
    try {
      for await (const _ of readParts(dir, parts, {
        limit: options.limit,
        signal: options.signal ?? new AbortController().signal,
      }))
        options.onChunk?.();
    } catch (error) {
      return error instanceof UnbundleStop ? error.failure : error;
    }
    return 'read everything';
  }

  test('a part that is a symlink (to /dev/zero) is refused without reading it', async () => {
    symlinkSync('/dev/zero', join(dir, 'img.part.00'));
    expect(await drain([part('img.part.00', Buffer.alloc(0))], { limit: 1000 })).toEqual({
      reason: 'part-not-regular',
      index: 0,
      filename: 'img.part.00',
      kind: 'symbolic link',
    });
  });

  test('a part that is a directory is refused', async () => {
    mkdirSync(join(dir, 'img.part.00'));
    expect(await drain([part('img.part.00', Buffer.alloc(0))], { limit: 1000 })).toMatchObject({
      reason: 'part-not-regular',
      kind: 'directory',
    });
  });

  test('reading stops once the parts hold more than the bundled size', async () => {
    const big = randomBytes(5 * 1024 * 1024);
    writeFileSync(join(dir, 'img.part.00'), big);
    let chunks = 0;
    const failure = await drain([part('img.part.00', big)], {
      limit: 1000,
      onChunk: () => (chunks += 1),
    });
    expect(failure).toEqual({
      reason: 'bundled-size-mismatch',
      expected: 1000,
      actual: 1001,
      stoppedAt: { index: 0, filename: 'img.part.00' },
    });
    expect(chunks).toBe(0);
  });

  test('an abort stops the read loop at the next chunk', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    writeFileSync(join(dir, 'img.part.00'), big);
    const controller = new AbortController();
    let chunks = 0;
    const failure = await drain([part('img.part.00', big)], {
      limit: big.length,
      signal: controller.signal,
      onChunk: () => {
        chunks += 1;
        controller.abort();
      },
    });
    expect(failure).toEqual({ reason: 'canceled' });
    expect(chunks).toBe(1);
  });
});

describe('the tar extractor reads a bounded stream', () => {
  const sink = { write: (): Promise<void> => Promise.resolve() };

  test('more than the tar tail after the image is refused (a padded gzip bomb)', async () => {
    const data = randomBytes(1000);
    const extractor = new TarExtractor(sink, data.length);
    await extractor.push(Buffer.concat([tarHeaderBlocks('img', data.length), data]));
    await extractor.push(Buffer.alloc(padding(data.length) + 1024 + 10240));
    await expect(extractor.push(Buffer.alloc(TAIL_LIMIT))).rejects.toMatchObject({
      failure: { reason: 'stream-corrupt', stage: 'tar' },
    });
  });

  test('a GNU long-name header claiming gigabytes is refused at once', async () => {
    const blocks = tarHeaderBlocks('n'.repeat(200), 10);
    const header = blocks.subarray(0, 512);
    header.write(`${(8 * 1024 ** 3 - 1).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
    const extractor = new TarExtractor(sink, 10);
    await expect(extractor.push(header)).rejects.toMatchObject({
      failure: { reason: 'stream-corrupt', stage: 'tar' },
    });
  });
});

describe('reading the manifest', () => {
  test('a manifest path leading to /dev/zero is refused, not read without end', async () => {
    symlinkSync('/dev/zero', join(dir, 'img.manifest.xml'));
    const r = await prepareUnbundle({
      manifestPath: join(dir, 'img.manifest.xml'),
      privateKeyPem: goldenKey('user-key'),
    });
    expect(r).toEqual({
      ok: false,
      error: {
        reason: 'manifest-unreadable',
        path: join(dir, 'img.manifest.xml'),
        code: 'a character device, not a regular file',
      },
    });
  }, 10_000);
});
