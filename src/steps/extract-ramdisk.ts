// The extract-ramdisk step: the initrd of the chosen kernel out of the customised image.
// Artifact `ramdisk` (initrd.img-<version> or initramfs-<version>.img); values as extract-kernel.
import { extractRamdiskKind } from './extract-boot.js';

export const extractRamdisk = extractRamdiskKind;
