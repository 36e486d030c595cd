// customize and make-bootable change a raw copy of the disk and keep only what changed: for a
// qcow2 disk, an overlay of the previous step's disk made by qemu-img rebase (real qemu-img),
// so a small change makes a small overlay whatever the size of the root file system — the
// step cache uploads that overlay.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { copyDiskToRaw, writeChangedDisk } from '../../../src/steps/disk-write.js';
import { customizeDisk } from '../../helpers/step-harness.js';
import { makeTinyTree, tinyRootDisk } from '../../helpers/tiny-root.js';
import { exec } from '../../../src/tools/exec.js';
import { quietTask } from '../../../src/core/task.js';
import { PARTITION_OFFSET_BYTES } from '../../../src/guest/disk-layout.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'emi-changed-disk-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const MiB = 1024 * 1024;

const context = () => ({ ...quietTask(new AbortController().signal), exec });

/** Bytes of `disk` stored in the file itself (not in its backing file), from qemu-img map. */
function ownDataBytes(disk: string): number {
  const map = JSON.parse(
    execFileSync('qemu-img', ['map', '--output=json', '-U', disk], { encoding: 'utf8' }),
  ) as { depth: number; data: boolean; length: number }[];
  return map.filter((m) => m.depth === 0 && m.data).reduce((n, m) => n + m.length, 0);
}

const identical = (a: string, b: string) =>
  execFileSync('qemu-img', ['compare', '-U', a, b], { encoding: 'utf8' }).trim();

/** A 32 MiB disk with 8 MiB of random data from 1 MiB, as raw and as qcow2. */
function baseDisks(name: string): { raw: string; qcow2: string } {
  const raw = join(dir, `${name}.raw`);
  const fd = openSync(raw, 'w');
  writeSync(fd, randomBytes(8 * MiB), 0, 8 * MiB, MiB);
  closeSync(fd);
  execFileSync('truncate', ['-s', '32M', raw]);
  const qcow2 = join(dir, `${name}.qcow2`);
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { raw, qcow2 };
}

function change(raw: string, offset: number, bytes: number): void {
  const fd = openSync(raw, 'r+');
  writeSync(fd, randomBytes(bytes), 0, bytes, offset);
  closeSync(fd);
}

describe('writeChangedDisk', () => {
  test('a qcow2 base: an overlay of it holding only the clusters that changed, with the changed content', async () => {
    const base = baseDisks('q');
    const work = join(dir, 'q-work');
    mkdirSync(work);
    const copy = join(work, 'disk.raw');
    expect((await copyDiskToRaw(context(), { path: base.qcow2, format: 'qcow2' }, copy)).ok).toBe(
      true,
    );
    expect(identical(copy, base.raw)).toBe('Images are identical.');
    change(copy, 5 * MiB + 1000, 4096); // within one 64 KiB cluster
    change(copy, 20 * MiB, 512); // where the base holds nothing
    const out = join(work, 'disk.qcow2');
    const r = await writeChangedDisk(context(), {
      raw: copy,
      base: { path: base.qcow2, format: 'qcow2' },
      out,
    });
    expect(r).toEqual({ ok: true, value: undefined });
    expect(identical(out, copy)).toBe('Images are identical.');
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', '-U', out], { encoding: 'utf8' }),
    ) as {
      format: string;
      'backing-filename': string;
      'full-backing-filename': string;
      'backing-filename-format': string;
    };
    expect(info.format).toBe('qcow2');
    // Stored relative to the overlay's directory: the chain can move as a whole (another
    // runner's work directory), and QEMU still finds the base.
    expect(info['backing-filename']).toBe(relative(work, base.qcow2));
    expect(resolve(info['full-backing-filename'])).toBe(base.qcow2);
    expect(info['backing-filename-format']).toBe('qcow2');
    // Two clusters of 64 KiB changed (a write back of the whole disk would hold 8 MiB).
    expect(ownDataBytes(out)).toBe(2 * 64 * 1024);
    // Moved elsewhere as a whole (as another runner downloads it), the chain still reads.
    const moved = join(dir, 'elsewhere');
    mkdirSync(join(moved, 'q-work'), { recursive: true });
    copyFileSync(base.qcow2, join(moved, 'q.qcow2'));
    copyFileSync(out, join(moved, 'q-work', 'disk.qcow2'));
    renameSync(base.qcow2, `${base.qcow2}.away`); // the original place is gone
    try {
      expect(identical(join(moved, 'q-work', 'disk.qcow2'), copy)).toBe('Images are identical.');
    } finally {
      renameSync(`${base.qcow2}.away`, base.qcow2);
    }
    // The base is never written.
    expect(identical(base.qcow2, base.raw)).toBe('Images are identical.');
  });

  test('a raw base: the changed copy itself, the base untouched', async () => {
    const base = baseDisks('r');
    const work = join(dir, 'r-work');
    mkdirSync(work);
    const copy = join(work, 'disk.raw');
    expect((await copyDiskToRaw(context(), { path: base.raw, format: 'raw' }, copy)).ok).toBe(true);
    change(copy, 3 * MiB, 4096);
    const expected = readFileSync(copy);
    const out = join(work, 'out.raw');
    const r = await writeChangedDisk(context(), {
      raw: copy,
      base: { path: base.raw, format: 'raw' },
      out,
    });
    expect(r.ok).toBe(true);
    expect(readFileSync(out).equals(expected)).toBe(true);
    expect(readFileSync(base.raw).equals(expected)).toBe(false);
  });

  test('a qcow2 base that cannot be read: the step fails saying what it was doing, and no disk is taken for done', async () => {
    const work = join(dir, 'bad-work');
    mkdirSync(work);
    const copy = join(work, 'disk.raw');
    execFileSync('truncate', ['-s', '32M', copy]);
    const missing = join(dir, 'missing.qcow2');
    const r = await writeChangedDisk(context(), {
      raw: copy,
      base: { path: missing, format: 'qcow2' },
      out: join(work, 'disk.qcow2'),
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(JSON.stringify(r.error)).toContain(
      "writing what changed into an overlay of the previous step's disk",
    );
  });
});

(isRoot ? describe : describe.skip)('customize (chroot) on a qcow2 disk', () => {
  test('the overlay holds what the script changed, not the root file system written back', async () => {
    const base = join(dir, 'cust');
    mkdirSync(base);
    const tree = join(base, 'tree');
    makeTinyTree(tree, (t) => {
      writeFileSync(join(t, 'root', 'payload'), randomBytes(24 * MiB));
    });
    const raw = join(base, 'tiny.raw');
    tinyRootDisk(tree, raw);
    execFileSync('qemu-img', [
      'convert',
      '-q',
      '-f',
      'raw',
      '-O',
      'qcow2',
      raw,
      join(base, 'disk.qcow2'),
    ]);
    const { r } = await customizeDisk({
      dir: base,
      name: 'changed-disk',
      commands: ['echo changed >/root/note'],
      disk: join(base, 'disk.qcow2'),
      format: 'qcow2',
      sizeBytes: 64 * MiB, // tinyRootDisk's
    });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    const out = join(r.value.dir, 'disk.qcow2');
    // The 24 MiB payload stays in the base; the overlay holds the note, the inode and
    // bitmap blocks, and the journal's few blocks.
    expect(ownDataBytes(out)).toBeLessThan(4 * MiB);
    const partition = `driver=raw,offset=${PARTITION_OFFSET_BYTES},file.driver=qcow2,file.file.driver=file,file.file.filename=${out}`;
    const copy = join(base, 'root.img');
    execFileSync('qemu-img', ['convert', '-q', '--image-opts', partition, '-O', 'raw', copy]);
    const cat = (path: string) =>
      execFileSync('debugfs', ['-R', `cat ${path}`, copy], {
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 * MiB,
      });
    expect(cat('/root/note').toString()).toBe('changed\n');
    expect(cat('/root/payload').equals(readFileSync(join(tree, 'root', 'payload')))).toBe(true);
  });
});
