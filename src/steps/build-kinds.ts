// The build step kinds (issue 7), for steps/registry.ts to register: create-disk,
// install-os, customize, extract-kernel, extract-ramdisk, extract-rootfs.
import type { StepKind } from '../plan/step.js';
import { createDisk } from './create-disk.js';
import { customize } from './customize.js';
import { extractKernel } from './extract-kernel.js';
import { extractRamdisk } from './extract-ramdisk.js';
import { extractRootfs } from './extract-rootfs.js';
import { installOs } from './install-os.js';

/** Each kind's params type is checked where it is defined; the registry sees them as JSON. */
export const BUILD_KINDS: readonly StepKind[] = [
  createDisk,
  installOs,
  customize,
  extractKernel,
  extractRamdisk,
  extractRootfs,
] as unknown as readonly StepKind[];
