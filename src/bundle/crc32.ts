// CRC-32 (the gzip/zlib polynomial) of byte ranges, and crc32Combine: the CRC of A‖B
// from crc(A), crc(B) and len(B), so that chunks compressed in parallel join into one
// gzip member (as pigz does). Pure arithmetic; no I/O.
import * as zlib from 'node:zlib';

/** Reversed CRC-32 polynomial (gzip, PNG, zlib's crc32). */
const POLY = 0xedb88320;

/**
 * (a · b) modulo the CRC polynomial, both reflected (zlib 1.2.12+ crc32.c `multmodp`).
 * `a` must not be 0 (it never is here: it is always a power of x modulo the polynomial).
 */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  let bb = b >>> 0;
  while (m !== 0) {
    if ((a & m) !== 0) {
      p ^= bb;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    bb = (bb & 1) !== 0 ? (bb >>> 1) ^ POLY : bb >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial (zlib's x2n_table). */
const X2N: readonly number[] = (() => {
  const table: number[] = [];
  let p = 0x40000000; // x^1
  table.push(p);
  for (let n = 1; n < 32; n += 1) {
    p = multModP(p, p);
    table.push(p);
  }
  return table;
})();

/** x^(n · 2^k) modulo the polynomial, for n up to 2^53 (zlib's `x2nmodp`). */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  let rest = n;
  let kk = k;
  while (rest > 0) {
    if (rest % 2 === 1) p = multModP(X2N[kk & 31] ?? 0, p);
    rest = Math.floor(rest / 2);
    kk += 1;
  }
  return p;
}

/**
 * The CRC-32 of the concatenation A‖B, given crc1 = CRC-32(A), crc2 = CRC-32(B) and
 * len2 = the length of B in bytes (any safe integer, so beyond 4 GiB). zlib's
 * crc32_combine64 (https://github.com/madler/zlib/blob/v1.3.1/crc32.c).
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 === 0) return crc1 >>> 0;
  return (multModP(x2nModP(len2, 3), crc1 >>> 0) ^ (crc2 >>> 0)) >>> 0;
}

let table: Uint32Array | undefined;

/** Byte-at-a-time CRC-32 for Node versions before 20.15 (which lack zlib.crc32). */
function crc32Slow(data: Uint8Array, initial: number): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = ~initial >>> 0;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}

type Crc32Fn = (data: Uint8Array, value?: number) => number;
const native = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

/** CRC-32 of `data`, continuing from `initial` (0 for a fresh CRC). Unsigned 32-bit. */
export function crc32(data: Uint8Array, initial = 0): number {
  return native !== undefined ? native(data, initial) >>> 0 : crc32Slow(data, initial);
}
