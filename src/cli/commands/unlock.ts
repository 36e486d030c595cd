// `emi-recipe unlock ID RECIPE`: removes the lock whose ID is given, like Terraform's
// force-unlock: for a run that died holding a shared store's lock, without waiting for its
// lease to run out; or a work directory's lock left by a dead process. A wrong ID, or the
// lock of a process still running on this machine, is refused.
import { describeStoreFailure } from '../../store/describe-store.js';
import { describeHolder } from '../../store/lock-holder.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';
import { openStore, storeExitCode } from '../store-choice.js';
import { openSession } from './session.js';

export interface UnlockOptions {
  readonly store?: string;
  readonly workDir?: string;
}

export async function runUnlock(
  id: string,
  recipeFile: string,
  options: UnlockOptions,
  deps: {
    terminal: Terminal;
    env: Readonly<Record<string, string | undefined>>;
    signal: AbortSignal;
  },
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: false,
    terminal: deps.terminal,
    ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
  });
  if (!session) return exit ?? EXIT.usage;
  const opened = await openStore(
    {
      ...(options.store !== undefined ? { flag: options.store } : {}),
      noLock: true,
      forWrite: false,
    },
    {
      recipe: session.recipe,
      recipeFile,
      workDir: session.workDir,
      env: deps.env,
      signal: deps.signal,
    },
  );
  if (!opened.ok) {
    deps.terminal.err(`error: ${opened.error.message}\n`);
    return opened.error.exit;
  }
  const store = opened.value;
  try {
    const removed = await store.unlock(id);
    if (!removed.ok) {
      deps.terminal.err(`error: ${describeStoreFailure(removed.error, recipeFile)}\n`);
      return storeExitCode(removed.error);
    }
    deps.terminal.out(
      `Removed the lock of ${store.url}: it was held by ${describeHolder(removed.value)}.\n` +
        `If that run is still going, it stops at its next lease renewal or state write.\n`,
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
