// Running commands inside an image's tree as root: the pseudo file systems package
// scripts need (proc, sys, dev), the host's DNS while it runs, no daemons started
// (policy-rc.d), and everything undone afterwards, even on failure or cancel.
import { copyFile, mkdir, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../core/path-exists.js';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import { runChroot } from '../tools/chroot.js';
import { mountsBelow, runMount, runUmount, type MountSpec } from '../tools/mount.js';
import { toolStepFailure } from './step-failure.js';

/** Runs `command` in `root` without any mounts (locale-gen and the like). */
export async function chrootRun<P>(
  ctx: StepRunContext<P>,
  root: string,
  command: readonly string[],
): Promise<Result<void, StepFailure>> {
  const r = await runChroot(ctx.exec, ctx, { root, command, onLine: ctx.log });
  return r.ok
    ? ok(undefined)
    : err(toolStepFailure(r.error, `running ${command.join(' ')} in the image`));
}

/**
 * Mounts what a chroot needs under `root`, runs `body`, and undoes it all. While it
 * runs, /etc/resolv.conf is the host's and /usr/sbin/policy-rc.d forbids starting
 * services (Debian's invoke-rc.d convention).
 */
export async function withChrootMounts<T, P>(
  ctx: StepRunContext<P>,
  root: string,
  body: () => Promise<Result<T, StepFailure>>,
): Promise<Result<T, StepFailure>> {
  const mounted: string[] = [];
  const resolv = join(root, 'etc/resolv.conf');
  const resolvSaved = join(root, 'etc/resolv.conf.emi-recipe-saved');
  const policy = join(root, 'usr/sbin/policy-rc.d');
  const hadPolicy = await pathExists(policy);
  const hadResolv = await pathExists(resolv);
  try {
    const plan: [MountSpec, string][] = [
      [{ kind: 'proc' }, 'proc'],
      [{ kind: 'sysfs' }, 'sys'],
      [{ kind: 'bind', source: '/dev' }, 'dev'],
      [{ kind: 'bind', source: '/dev/pts' }, 'dev/pts'],
    ];
    for (const [spec, where] of plan) {
      const target = join(root, where);
      await mkdir(target, { recursive: true });
      const r = await runMount(ctx.exec, ctx, spec, target);
      if (!r.ok) return err(toolStepFailure(r.error, `mounting ${where} for the chroot`));
      mounted.push(target);
    }
    if (hadResolv) await rename(resolv, resolvSaved);
    await copyFile('/etc/resolv.conf', resolv).catch(() => writeFile(resolv, ''));
    if (!hadPolicy) {
      await mkdir(join(root, 'usr/sbin'), { recursive: true });
      await writeFile(
        policy,
        '#!/bin/sh\n# emi-recipe: no services start while the image is customised.\nexit 101\n',
      );
      await chmod(policy, 0o755);
    }
    return await body();
  } finally {
    if (!hadPolicy) await rm(policy, { force: true });
    await rm(resolv, { force: true });
    if (hadResolv) await rename(resolvSaved, resolv).catch(() => undefined);
    // Package scripts may have mounted more (binfmt_misc…): undo everything below root.
    const all = mountsBelow(
      await readFile('/proc/self/mounts', 'utf8').catch(() => ''),
      root,
    ).filter((m) => m !== root);
    for (const target of [...new Set([...all, ...mounted.reverse()])])
      await runUmount(ctx.exec, target);
  }
}
