// Reading a recipe's bytes: at most MAX_RECIPE_BYTES (a device or a huge file is
// refused, never read whole), and strict UTF-8 (a bad byte is an error at its line,
// never silently replaced). Parsing is parse.ts's business.
import { open } from 'node:fs/promises';
import type { Diagnostic } from '../core/diagnostic.js';
import { err, ok, type Result } from '../core/result.js';

/** The largest recipe accepted: 1 MiB (recipes are a few KiB; content belongs in files). */
export const MAX_RECIPE_BYTES = 1024 * 1024;

/** Why a recipe file could not even be read (not a recipe problem: a usage error). */
export interface RecipeReadFailure {
  readonly reason: 'recipe-unreadable';
  readonly file: string;
  readonly code: string;
}

/** A recipe's bytes, or the fact that there are more than MAX_RECIPE_BYTES. */
export type RecipeBytes =
  | { readonly tooLarge: false; readonly bytes: Buffer }
  | { readonly tooLarge: true; readonly size: number | undefined };

/**
 * Reads at most MAX_RECIPE_BYTES + 1 bytes of `file`. `size` of a too-large file is its
 * length when it is a regular file (undefined for a device or pipe that kept giving).
 */
export async function readRecipeBytes(
  file: string,
): Promise<Result<RecipeBytes, RecipeReadFailure>> {
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_RECIPE_BYTES + 1);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled <= MAX_RECIPE_BYTES)
        return ok({ tooLarge: false, bytes: buffer.subarray(0, filled) });
      const stats = await handle.stat();
      return ok({ tooLarge: true, size: stats.isFile() ? stats.size : undefined });
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return err({ reason: 'recipe-unreadable', file, code });
  }
}

/** The diagnostic for a recipe over the size limit (placed at 1:1: nothing of it is read). */
export function tooLargeDiagnostic(file: string, size: number | undefined): Diagnostic {
  const found = size !== undefined ? `${String(size)} bytes` : 'more than that (it kept giving)';
  return {
    severity: 'error',
    message: `the recipe is larger than ${String(MAX_RECIPE_BYTES)} bytes (1 MiB), the limit for a recipe; found ${found}. Keep large content in files next to the recipe (\`customize.files[].source\`)`,
    location: { file, range: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } },
  };
}

/**
 * The bytes as text. Invalid UTF-8 is an error at the first bad byte (then `text`
 * shows it as U+FFFD, for the excerpt under the message). A byte-order mark is kept:
 * the YAML parser skips it.
 */
export function decodeRecipeBytes(
  file: string,
  bytes: Uint8Array,
): { readonly text: string; readonly diagnostics: readonly Diagnostic[] } {
  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes),
      diagnostics: [],
    };
  } catch {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const at = firstInvalidUtf8(bytes) ?? 0;
    const lineStart = bytes.lastIndexOf(0x0a, at - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i += 1) if (bytes[i] === 0x0a) line += 1;
    const column = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, at)).length + 1;
    const byte = (bytes[at] ?? 0).toString(16).padStart(2, '0');
    return {
      text,
      diagnostics: [
        {
          severity: 'error',
          message: `not UTF-8: byte 0x${byte} does not belong in UTF-8 text here; save the recipe as UTF-8`,
          location: {
            file,
            range: { start: { line, column }, end: { line, column: column + 1 } },
          },
        },
      ],
    };
  }
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629 §4). */
export function firstInvalidUtf8(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    // Sequence length and the range allowed for the second byte (no overlongs, no surrogates).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k += 1) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (c < min || c > max) return i;
    }
    i += length;
  }
  return undefined;
}
