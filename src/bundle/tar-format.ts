// The one-member GNU tar stream of an EC2 bundle, byte for byte as Python 2.7's tarfile
// writes it for euca2ools (spec/ec2-bundle-format.md §2.3), and the reading of a member
// header for the unbundler. Pure bytes; no I/O.
import { err, ok, type Result } from '../core/result.js';

export const TAR_BLOCK = 512;
/** tarfile's RECORDSIZE (20 blocks): the stream is NUL-padded to a multiple of it. */
export const TAR_RECORD = 10240;
const NAME_LENGTH = 100;
const GNU_MAGIC = 'ustar  \0';

/**
 * Python 2.7 tarfile `itn`: octal digits + NUL while the value fits (sizes below 8 GiB),
 * else GNU base-256: 0x80 then the value big-endian in the remaining bytes.
 */
function writeNumber(header: Buffer, offset: number, width: number, value: number): void {
  if (value < 8 ** (width - 1)) {
    header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'latin1');
    return;
  }
  header[offset] = 0x80;
  let rest = value;
  for (let i = width - 1; i >= 1; i -= 1) {
    header[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** One 512-byte header as tarfile's `_create_header` builds it (GNU format, mtime 0, uid/gid 0). */
function header(fields: { name: Buffer; mode: number; size: number; type: '0' | 'L' }): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  fields.name.copy(block, 0, 0, Math.min(fields.name.length, NAME_LENGTH));
  writeNumber(block, 100, 8, fields.mode);
  writeNumber(block, 108, 8, 0); // uid
  writeNumber(block, 116, 8, 0); // gid
  writeNumber(block, 124, 12, fields.size);
  writeNumber(block, 136, 12, 0); // mtime: the epoch
  block.write('        ', 148, 'latin1'); // checksum placeholder
  block.write(fields.type, 156, 'latin1');
  block.write(GNU_MAGIC, 257, 'latin1');
  writeNumber(block, 329, 8, 0); // devmajor
  writeNumber(block, 337, 8, 0); // devminor
  let sum = 0;
  for (const byte of block) sum += byte;
  // "%06o\0" then the 8th byte of the field stays a space (tarfile writes buf[:-364] + chksum + buf[-357:]).
  block.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
  return block;
}

/**
 * The header blocks preceding the member's data: a GNU `././@LongLink` header and the
 * name blocks when the name is longer than 100 bytes, then the member header (mode 0644,
 * the name's first 100 bytes). `name` is encoded as UTF-8.
 */
export function tarHeaderBlocks(name: string, size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tar member size ${size}`);
  const nameBytes = Buffer.from(name, 'utf8');
  const blocks: Buffer[] = [];
  if (nameBytes.length > NAME_LENGTH) {
    const payload = Buffer.concat([nameBytes, Buffer.alloc(1)]);
    blocks.push(
      header({ name: Buffer.from('././@LongLink'), mode: 0, size: payload.length, type: 'L' }),
    );
    blocks.push(Buffer.concat([payload, Buffer.alloc(padding(payload.length))]));
  }
  blocks.push(header({ name: nameBytes, mode: 0o644, size, type: '0' }));
  return Buffer.concat(blocks);
}

/** NUL bytes needed after `length` bytes to reach a multiple of 512. */
export function padding(length: number): number {
  const rest = length % TAR_BLOCK;
  return rest === 0 ? 0 : TAR_BLOCK - rest;
}

/**
 * Length of the whole tar stream: headers, data padded to 512, two zero blocks, then NUL
 * padding to a multiple of 10240 (tarfile's close()).
 */
export function tarStreamLength(headerLength: number, size: number): number {
  const body = headerLength + size + padding(size) + 2 * TAR_BLOCK;
  return Math.ceil(body / TAR_RECORD) * TAR_RECORD;
}

/** What a member header says, as far as the unbundler needs it. */
export interface TarHeaderInfo {
  /** The typeflag character ('0', '\0', 'L', 'x', …). */
  readonly type: string;
  /** Name field up to its first NUL (the long name comes from a preceding 'L' member). */
  readonly name: string;
  readonly size: number;
}

/** Why a block is not a tar header. */
export type TarHeaderProblem = 'checksum' | 'size-field';

/** True when a 512-byte block is all zero (an end-of-archive block). */
export function isZeroBlock(block: Uint8Array): boolean {
  return block.every((byte) => byte === 0);
}

/** Reads a 512-byte header block: checks its checksum and decodes octal or base-256 size. */
export function readTarHeader(block: Uint8Array): Result<TarHeaderInfo, TarHeaderProblem> {
  const b = Buffer.from(block.buffer, block.byteOffset, TAR_BLOCK);
  const stored = parseOctal(b.subarray(148, 156));
  let unsigned = 0;
  for (let i = 0; i < TAR_BLOCK; i += 1) unsigned += i >= 148 && i < 156 ? 32 : (b[i] ?? 0);
  if (stored === undefined || stored !== unsigned) return err('checksum');
  const sizeField = b.subarray(124, 136);
  let size: number | undefined;
  if (((sizeField[0] ?? 0) & 0x80) !== 0) {
    size = 0;
    for (let i = 1; i < 12; i += 1) size = size * 256 + (sizeField[i] ?? 0);
    if (!Number.isSafeInteger(size)) size = undefined;
  } else {
    size = parseOctal(sizeField);
  }
  if (size === undefined) return err('size-field');
  const nameEnd = b.indexOf(0);
  const name = b.subarray(0, nameEnd < 0 || nameEnd > NAME_LENGTH ? NAME_LENGTH : nameEnd);
  return ok({ type: String.fromCharCode(b[156] ?? 0), name: name.toString('utf8'), size });
}

function parseOctal(field: Buffer): number | undefined {
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}
