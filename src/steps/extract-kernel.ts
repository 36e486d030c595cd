// The extract-kernel step: /boot/vmlinuz-<version> out of the customised image.
// Artifact `kernel` (vmlinuz-<version>); values `kernelVersion`, `sizeBytes`, `fileType`.
import { extractKernelKind } from './extract-boot.js';

export const extractKernel = extractKernelKind;
