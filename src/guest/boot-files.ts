// Which kernel and initrd in /boot become the eki and eri: pairs found by name
// (Debian/Ubuntu vmlinuz-V + initrd.img-V, Red Hat initramfs-V.img, SUSE initrd-V),
// the newest by dpkg's version order or the one the recipe names. Pure.

/** A kernel with its initrd, as file names in /boot. */
export interface BootPair {
  readonly version: string;
  readonly kernel: string;
  readonly initrd: string;
}

const INITRD_NAMES = (v: string): string[] => [
  `initrd.img-${v}`,
  `initramfs-${v}.img`,
  `initrd-${v}`,
  `initrd-${v}.img`,
];

/** Kernels in a /boot listing that have an initrd; rescue and backup files are skipped. */
export function bootPairs(names: readonly string[]): BootPair[] {
  const present = new Set(names);
  const pairs: BootPair[] = [];
  for (const name of names) {
    const match = /^vmlinuz-(.+)$/.exec(name);
    const version = match?.[1];
    if (version === undefined) continue;
    if (/\.(dpkg-\w+|old|bak|new|hmac)$/.test(version) || version.startsWith('0-rescue-')) continue;
    const initrd = INITRD_NAMES(version).find((n) => present.has(n));
    if (initrd) pairs.push({ version, kernel: name, initrd });
  }
  return pairs.sort((a, b) => compareVersions(a.version, b.version));
}

/** Kernel versions that have no initrd (a finding worth reporting). */
export function kernelsWithoutInitrd(names: readonly string[]): string[] {
  const paired = new Set(bootPairs(names).map((p) => p.kernel));
  return names.filter(
    (n) => /^vmlinuz-/.test(n) && !paired.has(n) && !/\.(dpkg-\w+|old|bak|new|hmac)$/.test(n),
  );
}

function order(c: string): number {
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's version comparison (upstream part): <0, 0, >0. "6.1.0-18" < "6.1.0-21", "5.10~rc1" < "5.10". */
export function compareVersions(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let diff = 0;
    while ((i < a.length && !/\d/.test(a.charAt(i))) || (j < b.length && !/\d/.test(b.charAt(j)))) {
      const ac = i < a.length && !/\d/.test(a.charAt(i)) ? order(a.charAt(i)) : 0;
      const bc = j < b.length && !/\d/.test(b.charAt(j)) ? order(b.charAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i += 1;
      j += 1;
    }
    while (a.charAt(i) === '0') i += 1;
    while (b.charAt(j) === '0') j += 1;
    while (/\d/.test(a.charAt(i)) && /\d/.test(b.charAt(j))) {
      if (diff === 0) diff = a.charCodeAt(i) - b.charCodeAt(j);
      i += 1;
      j += 1;
    }
    if (/\d/.test(a.charAt(i))) return 1;
    if (/\d/.test(b.charAt(j))) return -1;
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * The pair for `wanted` ('newest' or an exact version). Returns a sentence saying
 * what exists when nothing matches.
 */
export function chooseBootPair(
  names: readonly string[],
  wanted: string,
): { ok: true; pair: BootPair } | { ok: false; message: string } {
  const pairs = bootPairs(names);
  const available = pairs.map((p) => p.version).join(', ');
  if (pairs.length === 0) {
    const lonely = kernelsWithoutInitrd(names);
    return {
      ok: false,
      message:
        lonely.length > 0
          ? `/boot has ${lonely.join(', ')} but no matching initrd: install an initramfs generator (initramfs-tools or dracut) so that an initrd exists`
          : "/boot has no kernel (vmlinuz-*): install a kernel package (install.debootstrap.kernelPackage, or the installer's default kernel)",
    };
  }
  if (wanted === 'newest') {
    const pair = pairs.at(-1);
    return pair ? { ok: true, pair } : { ok: false, message: 'no kernel' };
  }
  const pair = pairs.find((p) => p.version === wanted);
  return pair
    ? { ok: true, pair }
    : {
        ok: false,
        message: `extract.kernel is ${wanted}, but /boot has ${available}: name one of these, or newest`,
      };
}

export type BootFileKind =
  'linux-kernel' | 'gzip' | 'zstd' | 'xz' | 'lz4' | 'bzip2' | 'lzma' | 'cpio' | 'unknown';

/**
 * What a boot file is, from its first bytes: an x86 Linux kernel ("HdrS" at 0x202) or
 * an initrd's compression or cpio magic. Used to check extracted files.
 */
export function bootFileKind(head: Uint8Array): BootFileKind {
  const at = (i: number): number => head[i] ?? -1;
  const ascii = (from: number, n: number): string =>
    String.fromCharCode(...head.subarray(from, from + n));
  if (head.length >= 0x206 && ascii(0x202, 4) === 'HdrS') return 'linux-kernel';
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip';
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd';
  if (at(0) === 0xfd && ascii(1, 4) === '7zXZ') return 'xz';
  if (at(0) === 0x02 && at(1) === 0x21 && at(2) === 0x4c && at(3) === 0x18) return 'lz4';
  if (ascii(0, 3) === 'BZh') return 'bzip2';
  if (at(0) === 0x5d && at(1) === 0x00 && at(2) === 0x00) return 'lzma';
  if (ascii(0, 6) === '070701' || ascii(0, 6) === '070702') return 'cpio';
  return 'unknown';
}
