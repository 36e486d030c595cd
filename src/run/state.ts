// state.json: per step, the fingerprint it completed with, its components (for "what
// changed" reasons), its outputs and their identities; plus caches of input-file digests
// and tool versions. Written atomically (temp, fsync, rename) after every change.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { err, ok, type Result } from '../core/result.js';
import { unreachable } from '../core/unreachable.js';
import type { FingerprintComponents } from '../plan/fingerprint.js';
import type { JsonValue } from '../plan/step.js';

/** Bumped when the file's meaning changes; a file of another version is refused, not misread. */
export const STATE_FORMAT_VERSION = 1;

/** Identity of a file without reading it again: size, mtime and inode, plus its content digest. */
export interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  /** SHA-256 of the content, computed once when the file was produced or first seen. */
  readonly sha256: string;
}

export interface ArtifactRecord extends FileIdentity {
  /** File name inside the step's directory (artifacts/<step-id>/). */
  readonly file: string;
}

/** A step that completed. Absent while it runs, after a failure, or when never run. */
export interface StepRecord {
  readonly kind: string;
  readonly fingerprint: string;
  readonly components: FingerprintComponents;
  readonly artifacts: Readonly<Record<string, ArtifactRecord>>;
  readonly values: Readonly<Record<string, JsonValue>>;
  /** Digest of artifacts + values: what dependents' fingerprints see (early cutoff). */
  readonly outputDigest: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface ToolRecord {
  readonly size: number;
  readonly mtimeMs: number;
  readonly version: string;
}

export interface State {
  readonly formatVersion: number;
  readonly recipe: { readonly name: string; readonly path: string };
  readonly steps: Readonly<Record<string, StepRecord>>;
  /** Input file digests by absolute path, re-used while size/mtime/inode are unchanged. */
  readonly files: Readonly<Record<string, FileIdentity>>;
  /** Tool versions by absolute binary path, re-used while the binary is unchanged. */
  readonly tools: Readonly<Record<string, ToolRecord>>;
  /**
   * Remote stores only (src/store/), like Terraform's: a random id given when the state is
   * created, and a number incremented by every write. A state of another lineage, or
   * older than one already seen, is refused. The work directory's state has neither.
   */
  readonly lineage?: string;
  readonly serial?: number;
}

export type StateLoadFailure =
  | { readonly reason: 'state-corrupt'; readonly path: string; readonly detail: string }
  | { readonly reason: 'state-unreadable'; readonly path: string; readonly code: string }
  /** Written by another emi-recipe version (`found` as in the file: not always a number). */
  | { readonly reason: 'state-version'; readonly path: string; readonly found: string };

/** Path of the state file in a work directory. */
export function statePath(workDir: string): string {
  return join(workDir, 'state.json');
}

/** An empty state for a recipe. */
export function emptyState(recipe: { name: string; path: string }): State {
  return { formatVersion: STATE_FORMAT_VERSION, recipe, steps: {}, files: {}, tools: {} };
}

/**
 * Reads the state; a missing file is an empty state. A file of another format version
 * (a newer emi-recipe, say) and a corrupt file are failures: the user decides (the
 * right version, or emi-recipe clean); nothing is discarded or overwritten silently.
 */
export async function loadState(
  workDir: string,
  recipe: { name: string; path: string },
): Promise<Result<State, StateLoadFailure>> {
  const path = statePath(workDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT') return ok(emptyState(recipe));
    return err({ reason: 'state-unreadable', path, code });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return err({ reason: 'state-corrupt', path, detail: (error as Error).message });
  }
  if (data === null || typeof data !== 'object' || !('formatVersion' in data)) {
    return err({ reason: 'state-corrupt', path, detail: 'not an emi-recipe state file' });
  }
  const state = data as State;
  if (state.formatVersion !== STATE_FORMAT_VERSION)
    return err({ reason: 'state-version', path, found: JSON.stringify(state.formatVersion) });
  return ok({ ...emptyState(recipe), ...state, recipe });
}

/**
 * What a StateLoadFailure means and what to do, one paragraph; `recipeFile` for the
 * clean command. Shared by every command that reads the state.
 */
export function describeStateLoadFailure(failure: StateLoadFailure, recipeFile: string): string {
  const clean = `emi-recipe clean ${recipeFile}`;
  switch (failure.reason) {
    case 'state-corrupt':
      return `the work directory's state is unreadable (${failure.path}: ${failure.detail}). Nothing was changed. Inspect the file, or start over with: ${clean}`;
    case 'state-unreadable':
      return `cannot read the work directory's state ${failure.path} (${failure.code}). Nothing was changed. Check its permissions, or start over with: ${clean}`;
    case 'state-version':
      return `${failure.path} has state format version ${failure.found}; this emi-recipe reads version ${String(STATE_FORMAT_VERSION)} only (it was written by another emi-recipe version). Nothing was changed. Use the emi-recipe that wrote it, or start over with: ${clean}`;
    default:
      return unreachable(failure);
  }
}

/** Writes the state atomically. */
export async function saveState(workDir: string, state: State): Promise<void> {
  await writeFileAtomic(statePath(workDir), `${JSON.stringify(state, null, 1)}\n`);
}

/**
 * Persists a state: saveState into a work directory, or a compare-and-swap write to a
 * remote store (which throws run/store.ts StoreWriteError when refused).
 */
export type StateWriter = (state: State) => Promise<void>;

/**
 * Serialises state updates from concurrent steps: each update is applied to the latest
 * state and written before the next one starts, so no update is lost.
 */
export class StateStore {
  #state: State;
  readonly #write: StateWriter;
  #queue: Promise<void> = Promise.resolve();

  /** `where`: a work directory (saveState into it), or the writer to persist with. */
  constructor(where: string | StateWriter, state: State) {
    this.#write = typeof where === 'string' ? (s) => saveState(where, s) : where;
    this.#state = state;
  }

  get current(): State {
    return this.#state;
  }

  /**
   * Applies `change` and persists the result; resolves when written. If writing fails
   * (ENOSPC…, or a remote store's StoreWriteError), the rejection carries the error and `current` stays what is on disk, so
   * a later update never writes a change the caller was told had failed.
   */
  update(change: (state: State) => State): Promise<void> {
    const next = this.#queue.then(async () => {
      const changed = change(this.#state);
      await this.#write(changed);
      this.#state = changed;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

/** The state with one step's record replaced (or removed when `record` is undefined). */
export function withStep(state: State, id: string, record: StepRecord | undefined): State {
  const steps = Object.fromEntries(Object.entries(state.steps).filter(([key]) => key !== id));
  return { ...state, steps: record ? { ...steps, [id]: record } : steps };
}
