// The build step kinds (issue 7), for steps/registry.ts to register: create-disk,
// install-os, customize, extract-kernel, extract-ramdisk, extract-rootfs, and for hvm
// images make-bootable and extract-disk.
import type { BuiltinKinds } from '../plan/step-params.js';
import { createDisk } from './create-disk.js';
import { customize } from './customize.js';
import { extractDisk } from './extract-disk.js';
import { extractKernel } from './extract-kernel.js';
import { extractRamdisk } from './extract-ramdisk.js';
import { extractRootfs } from './extract-rootfs.js';
import { installOs } from './install-os.js';
import { makeBootable } from './make-bootable.js';

type BuildKind =
  | 'create-disk'
  | 'install-os'
  | 'customize'
  | 'extract-kernel'
  | 'extract-ramdisk'
  | 'extract-rootfs'
  | 'make-bootable'
  | 'extract-disk';

/** The build kinds' part of the registry's table: each entry is typed by its name's params. */
export const BUILD_KINDS: Pick<BuiltinKinds, BuildKind> = {
  'create-disk': createDisk,
  'install-os': installOs,
  customize,
  'extract-kernel': extractKernel,
  'extract-ramdisk': extractRamdisk,
  'extract-rootfs': extractRootfs,
  'make-bootable': makeBootable,
  'extract-disk': extractDisk,
};
