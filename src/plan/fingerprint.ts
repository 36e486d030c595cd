// Fingerprints: canonical data + SHA-256 (STYLE.md §5). A step is up to date when its
// fingerprint equals the recorded one and its outputs still verify. Pure.
import { canonicalJson, sha256Hex } from '../core/hash.js';
import type { JsonValue } from './step.js';

/** Bumped when the meaning of fingerprints changes: every step then re-runs once. */
export const FINGERPRINT_VERSION = 1;

/**
 * Everything a step's result depends on. No timestamps, temp paths or secret values:
 * input files (private keys included) enter as content digests, upstream steps as the
 * digest of their recorded outputs (so an upstream re-run that produces the same
 * bytes leaves its dependents up to date).
 */
export interface FingerprintComponents {
  readonly kind: string;
  readonly params: JsonValue;
  /** Input name -> SHA-256 of its content. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Upstream step id -> digest of that step's outputs. */
  readonly upstream: Readonly<Record<string, string>>;
  /** Tool name -> version text. */
  readonly tools: Readonly<Record<string, string>>;
}

/** The fingerprint: hex SHA-256 of the canonical components. */
export function fingerprintOf(components: FingerprintComponents): string {
  return sha256Hex(canonicalJson({ version: FINGERPRINT_VERSION, ...components }));
}

/** One reason why a fingerprint differs, as facts. */
export type ChangeReason =
  | { readonly kind: 'step-kind'; readonly old: string; readonly new: string }
  | {
      readonly kind: 'setting';
      readonly path: string;
      readonly old?: JsonValue;
      readonly new?: JsonValue;
    }
  | {
      readonly kind: 'input';
      readonly name: string;
      readonly change: 'added' | 'removed' | 'content';
    }
  | { readonly kind: 'upstream'; readonly step: string }
  | { readonly kind: 'tool'; readonly name: string; readonly old?: string; readonly new?: string }
  | { readonly kind: 'format' };

/**
 * What differs between the recorded and the current components. Settings are compared
 * down to the changed leaf (`users[0].groups`), at most `limit` reasons.
 */
export function diffComponents(
  old: FingerprintComponents,
  current: FingerprintComponents,
  limit = 10,
): ChangeReason[] {
  const out: ChangeReason[] = [];
  if (old.kind !== current.kind) out.push({ kind: 'step-kind', old: old.kind, new: current.kind });
  diffJson(old.params, current.params, '', out, limit);
  for (const name of new Set([...Object.keys(old.inputs), ...Object.keys(current.inputs)])) {
    const a = old.inputs[name];
    const b = current.inputs[name];
    if (a === b) continue;
    out.push({
      kind: 'input',
      name,
      change: a === undefined ? 'added' : b === undefined ? 'removed' : 'content',
    });
  }
  for (const step of new Set([...Object.keys(old.upstream), ...Object.keys(current.upstream)])) {
    if (old.upstream[step] !== current.upstream[step]) out.push({ kind: 'upstream', step });
  }
  for (const name of new Set([...Object.keys(old.tools), ...Object.keys(current.tools)])) {
    const a = old.tools[name];
    const b = current.tools[name];
    if (a !== b)
      out.push({
        kind: 'tool',
        name,
        ...(a !== undefined ? { old: a } : {}),
        ...(b !== undefined ? { new: b } : {}),
      });
  }
  if (out.length === 0) out.push({ kind: 'format' });
  return out.slice(0, limit);
}

function diffJson(
  a: JsonValue | undefined,
  b: JsonValue | undefined,
  path: string,
  out: ChangeReason[],
  limit: number,
): void {
  if (out.length >= limit) return;
  if (canonicalJson(a) === canonicalJson(b)) return;
  const isObject = (v: JsonValue | undefined): v is { readonly [k: string]: JsonValue } =>
    v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      diffJson(a[key], b[key], path ? `${path}.${key}` : key, out, limit);
    }
    return;
  }
  if (
    Array.isArray(a) &&
    Array.isArray(b) &&
    a.length === b.length &&
    a.some((x) => typeof x === 'object' && x !== null)
  ) {
    const left: readonly JsonValue[] = a;
    const right: readonly JsonValue[] = b;
    left.forEach((item, i) => {
      diffJson(item, right[i], `${path}[${i}]`, out, limit);
    });
    return;
  }
  out.push({
    kind: 'setting',
    path: path || '(settings)',
    ...(a !== undefined ? { old: a } : {}),
    ...(b !== undefined ? { new: b } : {}),
  });
}

/** A reason as text: "setting customize.packages: [less] → [less,curl]" (values only when short). */
export function describeChange(reason: ChangeReason): string {
  switch (reason.kind) {
    case 'step-kind':
      return `step kind ${reason.old} → ${reason.new}`;
    case 'setting': {
      const show = (v: JsonValue | undefined): string =>
        v === undefined ? '(unset)' : JSON.stringify(v);
      const old = show(reason.old);
      const now = show(reason.new);
      return old.length + now.length <= 120
        ? `setting ${reason.path}: ${old} → ${now}`
        : `setting ${reason.path} changed`;
    }
    case 'input':
      return reason.change === 'content'
        ? `input ${reason.name} changed (content)`
        : `input ${reason.name} ${reason.change}`;
    case 'upstream':
      return `output of ${reason.step} changed`;
    case 'tool':
      return `tool ${reason.name}: ${reason.old ?? '(none)'} → ${reason.new ?? '(missing)'}`;
    case 'format':
      return 'recorded with an older emi-recipe';
  }
}
