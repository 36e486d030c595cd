// Hashing primitives: canonical JSON and digests. No file I/O here.
import { createHash } from 'node:crypto';

declare const sha256Brand: unique symbol;
/** Lower-case hex SHA-256 (64 characters). */
export type Sha256Hex = string & { readonly [sha256Brand]: true };

/** SHA-256 of a string (UTF-8) or bytes, as lower-case hex. */
export function sha256Hex(data: string | Uint8Array): Sha256Hex {
  return createHash('sha256').update(data).digest('hex') as Sha256Hex;
}

/**
 * JSON with object keys sorted at every depth and no whitespace, so equal data
 * always gives equal text (the basis of fingerprints). `undefined` members are
 * dropped as JSON.stringify does; non-plain values (Date, Map…) are a bug.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(
        `canonicalJson: not a plain object: ${Object.prototype.toString.call(value)}`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return out;
  }
  return value;
}
