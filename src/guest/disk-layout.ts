// Partition tables and file-system signatures, read from bytes: which partition of an
// installed disk holds the root file system, without mounting or booting. Pure; the
// bytes come from qemu-img (vm/disk-probe.ts). Also writes the one-partition MBR
// that debootstrap disks get.

const SECTOR = 512;

/** A partition as the table describes it, in bytes. */
export interface Partition {
  /** 1-based, as Linux numbers them (vda1). */
  readonly number: number;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  /** MBR type byte ('0x83') or GPT type GUID, lower case. */
  readonly type: string;
}

export type PartitionTable =
  | { readonly kind: 'mbr'; readonly partitions: readonly Partition[] }
  | { readonly kind: 'gpt'; readonly partitions: readonly Partition[] }
  | { readonly kind: 'none' };

/** Bytes of the disk's start needed by parsePartitionTable: MBR, GPT header and 128 entries. */
export const TABLE_BYTES = 34 * SECTOR;

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** GUID bytes (mixed endian, as GPT stores them) as text. */
function guid(bytes: Uint8Array): string {
  const h = (i: number): string => (bytes[i] ?? 0).toString(16).padStart(2, '0');
  const part = (idx: number[]): string => idx.map(h).join('');
  return [
    part([3, 2, 1, 0]),
    part([5, 4]),
    part([7, 6]),
    part([8, 9]),
    part([10, 11, 12, 13, 14, 15]),
  ].join('-');
}

/**
 * The partition table at the start of a disk: GPT when a protective MBR and an "EFI
 * PART" header are present, else MBR primary partitions (extended ones are not
 * followed: installers put a single root in a primary partition), else none (a
 * file system on the whole disk, or nothing).
 */
export function parsePartitionTable(head: Uint8Array): PartitionTable {
  if (head.length < SECTOR || head[510] !== 0x55 || head[511] !== 0xaa) return { kind: 'none' };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const mbr: Partition[] = [];
  let protective = false;
  for (let i = 0; i < 4; i += 1) {
    const at = 446 + i * 16;
    const type = head[at + 4] ?? 0;
    const start = view.getUint32(at + 8, true);
    const count = view.getUint32(at + 12, true);
    if (type === 0xee) protective = true;
    if (type === 0 || count === 0) continue;
    mbr.push({
      number: i + 1,
      offsetBytes: start * SECTOR,
      sizeBytes: count * SECTOR,
      type: hex2(type),
    });
  }
  if (protective && head.length >= 2 * SECTOR) {
    const sig = new TextDecoder().decode(head.subarray(SECTOR, SECTOR + 8));
    if (sig === 'EFI PART') {
      const entriesLba = Number(view.getBigUint64(SECTOR + 72, true));
      const count = view.getUint32(SECTOR + 80, true);
      const size = view.getUint32(SECTOR + 84, true);
      const parts: Partition[] = [];
      for (let i = 0; i < count; i += 1) {
        const at = entriesLba * SECTOR + i * size;
        if (at + size > head.length) break;
        const typeBytes = head.subarray(at, at + 16);
        if (typeBytes.every((b) => b === 0)) continue;
        const first = Number(view.getBigUint64(at + 32, true));
        const last = Number(view.getBigUint64(at + 40, true));
        parts.push({
          number: i + 1,
          offsetBytes: first * SECTOR,
          sizeBytes: (last - first + 1) * SECTOR,
          type: guid(typeBytes),
        });
      }
      return { kind: 'gpt', partitions: parts };
    }
  }
  // A boot sector of a whole-disk FAT file system also ends in 55 AA: no entries means no table.
  return mbr.length > 0 ? { kind: 'mbr', partitions: mbr } : { kind: 'none' };
}

/** Bytes from a partition's start needed by identifyFileSystem. */
export const SIGNATURE_BYTES = 8192;

export type FileSystemKind = 'ext2' | 'ext3' | 'ext4' | 'xfs' | 'btrfs' | 'swap' | 'unknown';

export interface FileSystemId {
  readonly kind: FileSystemKind;
  readonly label: string | null;
  readonly uuid: string | null;
}

/**
 * What file system starts with `bytes` (the first 8 KiB of a partition): ext2/3/4
 * (by their feature flags), xfs, swap, or unknown. btrfs keeps its superblock at
 * 64 KiB and is reported only when given that much.
 */
export function identifyFileSystem(bytes: Uint8Array): FileSystemId {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (from: number, length: number): string =>
    new TextDecoder().decode(bytes.subarray(from, from + length)).replace(/\0.*$/s, '');
  if (bytes.length >= 1024 + 256 && view.getUint16(1024 + 56, true) === 0xef53) {
    const compat = view.getUint32(1024 + 92, true);
    const incompat = view.getUint32(1024 + 96, true);
    const hasJournal = (compat & 0x4) !== 0;
    // INCOMPAT_EXTENTS (0x40) or 64BIT (0x80) or FLEX_BG (0x200) only exist on ext4.
    const isExt4 = (incompat & (0x40 | 0x80 | 0x200)) !== 0;
    const uuidBytes = bytes.subarray(1024 + 104, 1024 + 120);
    const label = text(1024 + 120, 16);
    return {
      kind: isExt4 ? 'ext4' : hasJournal ? 'ext3' : 'ext2',
      label: label === '' ? null : label,
      uuid: formatUuid(uuidBytes),
    };
  }
  if (text(0, 4) === 'XFSB') {
    const label = text(108, 12);
    return {
      kind: 'xfs',
      label: label === '' ? null : label,
      uuid: formatUuid(bytes.subarray(32, 48)),
    };
  }
  if (bytes.length >= 4096 && ['SWAPSPACE2', 'SWAP-SPACE'].includes(text(4086, 10)))
    return { kind: 'swap', label: null, uuid: null };
  if (bytes.length >= 0x10000 + 0x48 && text(0x10000 + 0x40, 8) === '_BHRfS_M')
    return { kind: 'btrfs', label: null, uuid: null };
  return { kind: 'unknown', label: null, uuid: null };
}

function formatUuid(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A partition (or the whole disk, number 0) with what it holds. */
export interface Volume {
  readonly number: number;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly fs: FileSystemId;
}

export const LINUX_ROOT_KINDS: readonly FileSystemKind[] = ['ext4', 'ext3', 'ext2', 'xfs', 'btrfs'];

/**
 * The volume most likely to be the root file system: the largest one holding a Linux
 * file system (swap and unknown ones never). null when there is none.
 */
export function chooseRootVolume(volumes: readonly Volume[]): Volume | null {
  const linux = volumes.filter((v) => LINUX_ROOT_KINDS.includes(v.fs.kind));
  return linux.reduce<Volume | null>(
    (best, v) => (best && best.sizeBytes >= v.sizeBytes ? best : v),
    null,
  );
}

/** The start of the single partition debootstrap disks get: 1 MiB, as every partitioner aligns. */
export const PARTITION_OFFSET_BYTES = 1024 * 1024;

/**
 * A 512-byte MBR with one bootable Linux (0x83) partition from 1 MiB to the end of a
 * disk of `diskBytes` (rounded down to whole sectors), like `sfdisk` would write.
 * The disk id is fixed so that equal recipes give equal disks.
 */
export function singlePartitionMbr(diskBytes: number): Uint8Array {
  const mbr = new Uint8Array(SECTOR);
  const view = new DataView(mbr.buffer);
  const start = PARTITION_OFFSET_BYTES / SECTOR;
  const count = Math.floor(diskBytes / SECTOR) - start;
  if (count <= 0) throw new Error(`disk of ${diskBytes} bytes is too small for a partition`);
  view.setUint32(440, 0x454d4952, true); // disk id "RIME"
  const at = 446;
  mbr[at] = 0x80;
  // CHS fields: the "beyond 8 GiB" marker values that LBA-only tools write.
  mbr.set([0xfe, 0xff, 0xff], at + 1);
  mbr[at + 4] = 0x83;
  mbr.set([0xfe, 0xff, 0xff], at + 5);
  view.setUint32(at + 8, start, true);
  view.setUint32(at + 12, count, true);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

/** Size of the single partition of singlePartitionMbr(diskBytes). */
export function singlePartitionBytes(diskBytes: number): number {
  return (Math.floor(diskBytes / SECTOR) - PARTITION_OFFSET_BYTES / SECTOR) * SECTOR;
}
