// A tiny Linux root file system for real chroot tests without debootstrap: the host's
// sh and a few coreutils with the shared libraries ldd names, written by mke2fs -d into
// a one-partition raw disk (the layout install-os leaves). Takes about a second.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mke2fsArgs } from '../../src/tools/e2fs.js';
import {
  PARTITION_OFFSET_BYTES,
  singlePartitionBytes,
  singlePartitionMbr,
} from '../../src/guest/disk-layout.js';

const PROGRAMS = ['sh', 'sleep', 'rm', 'cat', 'setsid', 'mkdir', 'ls', 'readlink'];

/** Copies `program` (found on PATH) and the libraries it links into `tree`, at the same paths. */
function copyProgram(tree: string, program: string): void {
  const path = execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
  const files = [path];
  const ldd = execFileSync('ldd', [path], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) if (m[1]) files.push(m[1]);
  for (const file of files) {
    mkdirSync(join(tree, dirname(file)), { recursive: true });
    copyFileSync(file, join(tree, file));
  }
  // The customize script calls programs by name with a standard PATH: /bin covers them.
  mkdirSync(join(tree, 'bin'), { recursive: true });
  if (!path.startsWith('/bin/')) copyFileSync(path, join(tree, 'bin', program));
}

/** Lays out the tree: the programs, the usual directories, and `extra` (e.g. planted links). */
export function makeTinyTree(tree: string, extra: (tree: string) => void = () => undefined): void {
  for (const dir of ['etc', 'usr/sbin', 'var/tmp', 'tmp', 'proc', 'sys', 'dev', 'root'])
    mkdirSync(join(tree, dir), { recursive: true });
  for (const program of PROGRAMS) copyProgram(tree, program);
  extra(tree);
}

/** Writes `tree` as an ext4 root into a new raw disk of `sizeBytes` at `disk`. */
export function tinyRootDisk(tree: string, disk: string, sizeBytes = 64 * 1024 * 1024): void {
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, sizeBytes);
  writeSync(fd, singlePartitionMbr(sizeBytes), 0, 512, 0);
  closeSync(fd);
  execFileSync(
    'mke2fs',
    mke2fsArgs({
      image: disk,
      fromDir: tree,
      offsetBytes: PARTITION_OFFSET_BYTES,
      sizeBytes: singlePartitionBytes(sizeBytes),
      label: 'tiny-root',
    }),
  );
}
