// Parsing of sizes ("5G", "512MiB") and durations ("45m", "1h30m") written in recipes.
// Pure; the schema's patterns accept the same syntax (schemas/recipe.schema.json $defs).

const SIZE_RE = /^([0-9]+(?:\.[0-9]+)?)\s?([KMGT]i?B?|[kK]B?|B)?$/;
const BINARY: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const DECIMAL: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/**
 * Bytes denoted by a recipe size. K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024 (as
 * qemu-img reads them); KB/MB/GB/TB are powers of 1000; a bare number is bytes.
 * Returns undefined for text that is not a size or a size that is not a whole
 * number of bytes (e.g. "0.3K").
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = SIZE_RE.exec(value.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] ?? 'B';
  let factor = 1;
  if (unit !== 'B') {
    const letter = unit.charAt(0).toUpperCase();
    const decimal = unit.length === 2 && unit.endsWith('B');
    factor = (decimal ? DECIMAL[letter] : BINARY[letter]) ?? 1;
  }
  const bytes = amount * factor;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte count for people: 5368709120 -> "5 GiB", 1536 -> "1.5 KiB". */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let index = 0;
  while (value >= 1024 && index < units.length - 1) {
    value /= 1024;
    index += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[index] ?? 'B'}`;
}

const DURATION_PART = /([0-9]+)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds denoted by a recipe duration: "90s", "45m", "1h30m", or a bare number
 * of seconds. Undefined for anything else.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value * 1000 : undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  if (!/^([0-9]+(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 0);
  }
  return total;
}

/** A duration for people: 5400000 -> "1h30m", 1500 -> "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}` || '0s';
}
