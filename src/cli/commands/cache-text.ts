// How `cache ls|prune` show entries, blobs, ages and sizes: one line each, columns like
// `docker buildx du`. Pure text; the commands print it.
import { formatSize } from '../../recipe/units.js';
import type { ListedObject } from '../../cloud/object-listing.js';
import { entryTime, type ReadEntry } from '../../store/cache-prune.js';

/** An age for people, one unit: 41d, 5h, 12m, 40s (a clock ahead of ours: 0s). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 86_400) return `${String(Math.floor(s / 86_400))}d`;
  if (s >= 3600) return `${String(Math.floor(s / 3600))}h`;
  if (s >= 60) return `${String(Math.floor(s / 60))}m`;
  return `${String(s)}s`;
}

/** The first 12 hex digits, as people quote fingerprints and digests. */
export const short = (hex: string): string => hex.slice(0, 12);

const pad = (text: string, width: number): string => text.padEnd(width);

/** One entry: short fingerprint, kind, recipe, created, age, then `extra`. */
export function entryLine(read: ReadEntry, now: Date, extra: string): string {
  const at = entryTime(read);
  const created = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const age = formatAge(now.getTime() - at.getTime());
  if ('problem' in read)
    return `${pad(short(read.fingerprint), 14)}${pad('?', 16)}${pad('?', 18)}${pad(created, 22)}${pad(age, 6)}${extra}`;
  const { entry } = read;
  return `${pad(short(read.fingerprint), 14)}${pad(entry.kind, 16)}${pad(entry.recipe, 18)}${pad(created, 22)}${pad(age, 6)}${extra}`;
}

export const ENTRY_HEADER = `${pad('FINGERPRINT', 14)}${pad('KIND', 16)}${pad('RECIPE', 18)}${pad('CREATED', 22)}${pad('AGE', 6)}STORED`;

/** One blob: its digest, size and age. */
export function blobLine(blob: ListedObject, now: Date): string {
  const sha = /([0-9a-f]{64})\.gz$/.exec(blob.key)?.[1] ?? blob.key;
  return `sha256:${short(sha)}  ${pad(formatSize(blob.size), 10)} ${formatAge(now.getTime() - blob.lastModified.getTime())} old`;
}

/** `1 blob`, `2 blobs`; `count(2, 'entry', 'entries')`. */
export function count(n: number, thing: string, things = `${thing}s`): string {
  return `${String(n)} ${n === 1 ? thing : things}`;
}

export const sumSizes = (objects: readonly ListedObject[]): number =>
  objects.reduce((total, o) => total + o.size, 0);

export { formatSize };
