// A recipe's state as one object in a remote store: read with its ETag, written only over
// that ETag (If-Match) or, the first time, only if absent (If-None-Match: *). A write that
// loses the race is refused, never merged. Lineage and serial, like Terraform's, catch a
// state of another recipe or history and one older than already seen.
import { randomUUID } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import { emptyState, STATE_FORMAT_VERSION, type State } from '../run/state.js';
import type { StateVersion, StoreFailure, VersionedState } from '../run/store.js';
import type { CasObjects } from './cas-objects.js';

/** Where the state object is, and how to reach it. */
export interface StateObject {
  readonly objects: CasObjects;
  readonly key: string;
  /** `s3://bucket/key`, for messages. */
  readonly url: string;
  readonly signal: AbortSignal;
}

/** The lineage and highest serial a work directory has seen at a store (see seen-memo.ts). */
export interface Seen {
  readonly lineage: string;
  readonly serial: number;
}

function parseState(
  text: string,
  url: string,
  recipe: { name: string; path: string },
): Result<State & { lineage: string; serial: number }, StoreFailure> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return err({ reason: 'state-invalid', url, detail: (error as Error).message });
  }
  if (data === null || typeof data !== 'object' || !('formatVersion' in data))
    return err({ reason: 'state-invalid', url, detail: 'not an emi-recipe state' });
  const state = data as Partial<State>;
  if (state.formatVersion !== STATE_FORMAT_VERSION)
    return err({
      reason: 'state-invalid',
      url,
      detail: `state format version ${JSON.stringify(state.formatVersion)}; this emi-recipe reads version ${String(STATE_FORMAT_VERSION)} only`,
    });
  if (typeof state.lineage !== 'string' || typeof state.serial !== 'number')
    return err({ reason: 'state-invalid', url, detail: 'it has no lineage and serial' });
  const name = state.recipe?.name;
  if (name !== recipe.name)
    return err({ reason: 'state-recipe', url, found: String(name), expected: recipe.name });
  // The recipe's path is this machine's: runners check the recipe out in other places.
  return ok({
    ...emptyState(recipe),
    ...state,
    recipe,
    lineage: state.lineage,
    serial: state.serial,
  });
}

/**
 * Reads the state. None yet: an empty state with a new lineage and serial 0, to be
 * created by the first write. Refuses a state of another recipe, another lineage than
 * `seen`'s, or a serial below `seen`'s.
 */
export async function readStateObject(
  where: StateObject,
  recipe: { name: string; path: string },
  seen: Seen | undefined,
): Promise<Result<VersionedState, StoreFailure>> {
  const got = await where.objects.get(where.key, where.signal);
  if (!got.ok)
    return err({ reason: 'store-unreachable', url: where.url, detail: got.error.detail });
  if (got.value === undefined) {
    const lineage = randomUUID();
    return ok({
      state: { ...emptyState(recipe), lineage, serial: 0 },
      version: { lineage, serial: 0 },
    });
  }
  const parsed = parseState(got.value.body, where.url, recipe);
  if (!parsed.ok) return parsed;
  const state = parsed.value;
  if (seen !== undefined && seen.lineage !== state.lineage)
    return err({
      reason: 'state-lineage',
      url: where.url,
      found: state.lineage,
      seen: seen.lineage,
    });
  if (seen !== undefined && state.serial < seen.serial)
    return err({ reason: 'state-serial', url: where.url, found: state.serial, seen: seen.serial });
  return ok({
    state,
    version: { token: got.value.etag, lineage: state.lineage, serial: state.serial },
  });
}

/** The document written for `state` at `version`'s successor: the serial incremented. */
function documentOf(state: State, version: StateVersion): { text: string; next: Seen } {
  const lineage = version.lineage ?? state.lineage ?? randomUUID();
  const serial = (version.serial ?? 0) + 1;
  const text = `${JSON.stringify({ ...state, lineage, serial }, null, 1)}\n`;
  return { text, next: { lineage, serial } };
}

/**
 * Writes `state` over `version` (If-Match its ETag, or If-None-Match: * when the state
 * did not exist). Refused (`state-conflict`) when another writer came first. A write
 * whose answer was lost and whose retry met its own result counts as done.
 */
export async function writeStateObject(
  where: StateObject,
  state: State,
  version: StateVersion,
): Promise<Result<StateVersion, StoreFailure>> {
  const { text, next } = documentOf(state, version);
  const condition =
    version.token !== undefined ? { ifMatch: version.token } : { ifNoneMatch: '*' as const };
  const put = await where.objects.put(where.key, text, condition, where.signal);
  if (put.ok) return ok({ token: put.value.etag, ...next });
  if (put.error.reason === 'io')
    return err({ reason: 'store-unreachable', url: where.url, detail: put.error.detail });
  // The condition failed. If the object now is exactly what this write sent, an earlier
  // attempt of it succeeded and only its answer was lost (the SDK retried): done.
  const now = await where.objects.get(where.key, where.signal);
  if (now.ok && now.value?.body === text) return ok({ token: now.value.etag, ...next });
  return err({ reason: 'state-conflict', url: where.url });
}
