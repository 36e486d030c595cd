// `emi-recipe clean`: removes the work directory (state, logs, artifacts), or with
// --keep-artifacts only what resuming does not need (logs, leftovers of interrupted
// steps). Registered images and uploaded bundles are not touched. Refused while an
// apply holds the lock. A killed run's mounts and processes are undone first; nothing
// is deleted while anything below the work directory is still mounted.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock } from '../../run/lock.js';
import { artifactsRoot, logsDir } from '../../run/layout.js';
import { describeReap, reapedAnything, reapWorkDir } from '../../run/reap.js';
import { exec as realExec, type Exec } from '../../tools/exec.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';
import { openSession } from './session.js';

export async function runClean(
  recipeFile: string,
  options: { keepArtifacts: boolean; workDir?: string },
  deps: {
    terminal: Terminal;
    env: Readonly<Record<string, string | undefined>>;
    exec?: Exec;
  },
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: false,
    terminal: deps.terminal,
    ...(options.workDir !== undefined ? { workDir: options.workDir } : {}),
  });
  if (!session) return exit ?? EXIT.usage;
  const entries = await readdir(session.workDir).catch(() => undefined);
  if (!entries) {
    deps.terminal.out(`Nothing to clean: ${session.workDir} does not exist.\n`);
    return EXIT.ok;
  }
  const lock = await acquireLock(session.workDir, `emi-recipe clean ${recipeFile}`);
  if (!lock.ok) {
    deps.terminal.err(
      `error: an apply is running in ${session.workDir} (pid ${lock.error.holder.pid}); wait for it or stop it first.\n`,
    );
    return EXIT.locked;
  }
  try {
    // rm -r would walk into a mount left by a killed run (the host's /dev, bound into a
    // chroot): unmount first, and delete nothing while any mount stays.
    const reaped = await reapWorkDir(session.workDir, deps.exec ?? realExec);
    if (reaped.stillMounted.length > 0) {
      deps.terminal.err(
        `error: ${reaped.stillMounted.join(', ')} is still mounted below ${session.workDir}; nothing was removed. Unmount it (umount --lazy PATH) and run clean again.\n`,
      );
      return EXIT.failure;
    }
    if (reapedAnything(reaped))
      deps.terminal.out(`Cleaned up after a killed run: ${describeReap(reaped)}.\n`);
    if (options.keepArtifacts) {
      await rm(logsDir(session.workDir), { recursive: true, force: true });
      const artifacts = await readdir(artifactsRoot(session.workDir)).catch(() => [] as string[]);
      const partial = artifacts.filter((name) => name.endsWith('.partial'));
      for (const name of partial)
        await rm(join(artifactsRoot(session.workDir), name), { recursive: true, force: true });
      deps.terminal.out(
        `Removed logs and ${partial.length} interrupted step output(s); state and artifacts kept (${session.workDir}).\n`,
      );
    } else {
      for (const name of entries)
        if (name !== 'lock')
          await rm(join(session.workDir, name), { recursive: true, force: true });
      deps.terminal.out(
        `Removed ${session.workDir}: the next apply starts from scratch. Registered images were not touched (see emi-recipe deregister).\n`,
      );
    }
  } finally {
    await lock.value.release();
  }
  if (!options.keepArtifacts) await rm(session.workDir, { recursive: true, force: true });
  return EXIT.ok;
}
