// A StoreFailure in words: what happened at which store, and what to do next. One place,
// for apply, plan, unlock and the step failure of a refused state write.
import { unreachable } from '../core/unreachable.js';
import type { StoreFailure } from '../run/store.js';
import { describeHolder } from './lock-holder.js';

/** One paragraph for `failure`; `recipeFile` names the recipe in suggested commands. */
export function describeStoreFailure(failure: StoreFailure, recipeFile: string): string {
  switch (failure.reason) {
    case 'store-unreachable':
      return `the state store ${failure.url} cannot be used: ${failure.detail}`;
    case 'state-conflict':
      return `the state at ${failure.url} was changed by another run since this one read it; this run's write was refused (never merged). Another apply is running on this recipe (or ran with --no-lock). Nothing of the other run was lost; see what is done with: emi-recipe plan ${recipeFile}`;
    case 'state-invalid':
      return `the state at ${failure.url} is unusable: ${failure.detail}. Nothing was changed.`;
    case 'state-recipe':
      return `the state at ${failure.url} belongs to recipe '${failure.found}', not '${failure.expected}'. Nothing was changed. Check the store's address (store.url, --store).`;
    case 'state-lineage':
      return `the state at ${failure.url} has lineage ${failure.found}, but this work directory last saw lineage ${failure.seen} there: the state was deleted and made again, or the address points at another store. Nothing was changed. If that is intended, start this work directory over (emi-recipe clean ${recipeFile}).`;
    case 'state-serial':
      return `the state at ${failure.url} is older (serial ${String(failure.found)}) than the one this work directory already saw there (serial ${String(failure.seen)}): an old copy was restored, or a cache serves stale objects. Nothing was changed. Restore the newer state, or start this work directory over (emi-recipe clean ${recipeFile}).`;
    case 'lock-held':
      return `the lock ${failure.url} is held by ${describeHolder(failure.holder)}. Wait for that run (--lock-timeout 10m waits), or if it is dead and you cannot wait for its lease to run out: emi-recipe unlock ${failure.holder.id} ${recipeFile}`;
    case 'lock-lost':
      return `this run lost the lock ${failure.url}: ${failure.detail}. It stopped so as not to overwrite another run's work; run the same command again to resume.`;
    case 'no-conditional-writes':
      return `the server ${failure.server} does not honour conditional writes (${failure.found}), so ${failure.url} cannot be locked and two runners could overwrite each other's state. Use a store on a server that honours them (AWS S3, the embedded cloud, a recent MinIO or Ceph), or, if only one runner ever applies this recipe, pass --no-lock.`;
    case 'unlock-mismatch':
      return failure.holder
        ? `the lock ${failure.url} has ID ${failure.holder.id}, not ${failure.given}: nothing was removed. It is held by ${describeHolder(failure.holder)}.`
        : `there is no lock at ${failure.url} (nothing to unlock, ID ${failure.given}).`;
    case 'unlock-alive':
      return `the lock ${failure.url} belongs to process ${String(failure.holder.pid)}, which is still running on this machine: stop it (kill ${String(failure.holder.pid)}) instead of removing its lock.`;
    case 'store-config':
      return `the state store ${failure.url} cannot be opened: ${failure.problem}`;
    case 'fs-error':
      return failure.detail;
    default:
      return unreachable(failure);
  }
}
