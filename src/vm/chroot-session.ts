// Running commands inside an image's tree as root, in a namespace sandbox (tools/namespace.ts):
// the pseudo file systems package scripts need (proc, sys, dev), the host's DNS while it runs,
// no daemons started (policy-rc.d), and everything undone afterwards, even on failure or
// cancel. The tree is untrusted: nothing is written or mounted through a link inside it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  containedDir,
  lstatContained,
  removeContained,
  renameContained,
  writeContained,
  type ContainedPathFailure,
} from '../core/contained-path.js';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import { runChroot } from '../tools/chroot.js';
import { mountsBelow, runMount, runUmount, type MountSpec } from '../tools/mount.js';
import type { Sandbox } from '../tools/namespace.js';
import { stepFailure, toolStepFailure } from '../plan/step-failure.js';

/** Runs `command` in `root` without any mounts (locale-gen and the like), inside `sandbox`. */
export async function chrootRun<P>(
  ctx: StepRunContext<P>,
  sandbox: Sandbox,
  root: string,
  command: readonly string[],
): Promise<Result<void, StepFailure>> {
  const r = await runChroot(sandbox.exec, ctx, { root, command, onLine: ctx.log });
  return r.ok
    ? ok(undefined)
    : err(toolStepFailure(r.error, `running ${command.join(' ')} in the image`));
}

/** The step failure for a path in an image that emi-recipe refuses to write through. */
export function unsafeImageFailure(failure: ContainedPathFailure, doing: string): StepFailure {
  const what =
    failure.reason === 'symlink'
      ? `the image's ${failure.path} is a symbolic link (or something already there is in the way)`
      : `the image's ${failure.path} is not a directory`;
  return stepFailure(
    'guest',
    'unsafe-image',
    `${doing}: ${what}; emi-recipe never writes into an image through a link, which could lead out of the image onto the host. Make ${failure.path} a real directory in the image, or customize with libguestfs (EMI_RECIPE_CUSTOMIZE=guestfs), which writes inside its own appliance.`,
  );
}

const MOUNTS: readonly (readonly [MountSpec, string])[] = [
  [{ kind: 'proc' }, 'proc'],
  [{ kind: 'sysfs' }, 'sys'],
  [{ kind: 'bind', source: '/dev' }, 'dev'],
  [{ kind: 'bind', source: '/dev/pts' }, 'dev/pts'],
];
const RESOLV = 'etc/resolv.conf';
const RESOLV_SAVED = 'etc/resolv.conf.emi-recipe-saved';
const POLICY = 'usr/sbin/policy-rc.d';
const POLICY_SCRIPT =
  '#!/bin/sh\n# emi-recipe: no services start while the image is customised.\nexit 101\n';

interface Prepared {
  readonly hadResolv: boolean;
  readonly hadPolicy: boolean;
}

async function prepare<P>(
  ctx: StepRunContext<P>,
  sandbox: Sandbox,
  root: string,
): Promise<Result<Prepared, StepFailure>> {
  const host = sandbox.hostPath(root);
  const unsafe = (f: ContainedPathFailure) => err(unsafeImageFailure(f, 'preparing the chroot'));
  for (const [spec, where] of MOUNTS) {
    // A link here would make mount(8) mount wherever it points.
    const dir = await containedDir(host, where, { create: true });
    if (!dir.ok) return unsafe(dir.error);
    const r = await runMount(sandbox.exec, ctx, spec, join(root, where));
    if (!r.ok) return err(toolStepFailure(r.error, `mounting ${where} for the chroot`));
  }
  const resolv = await lstatContained(host, RESOLV);
  if (!resolv.ok) return unsafe(resolv.error);
  const hadResolv = resolv.value !== undefined;
  if (hadResolv) {
    // A link (systemd-resolved's stub) is moved aside as a link, never followed.
    const cleared = await removeContained(host, RESOLV_SAVED);
    if (!cleared.ok) return unsafe(cleared.error);
    const moved = await renameContained(host, RESOLV, RESOLV_SAVED);
    if (!moved.ok) return unsafe(moved.error);
  }
  const dns = await readFile('/etc/resolv.conf').catch(() => new Uint8Array());
  const wrote = await writeContained(host, RESOLV, dns, 0o644);
  if (!wrote.ok) return unsafe(wrote.error);
  const policy = await lstatContained(host, POLICY);
  if (!policy.ok) return unsafe(policy.error);
  const hadPolicy = policy.value !== undefined;
  if (!hadPolicy) {
    const w = await writeContained(host, POLICY, POLICY_SCRIPT, 0o755);
    if (!w.ok) return unsafe(w.error);
  }
  return ok({ hadResolv, hadPolicy });
}

/** Puts resolv.conf and policy-rc.d back; nothing runs in the image any more. */
async function restore(
  sandbox: Sandbox,
  root: string,
  prepared: Prepared,
): Promise<Result<void, StepFailure>> {
  const host = sandbox.hostPath(root);
  const steps = [
    ...(prepared.hadPolicy ? [] : [() => removeContained(host, POLICY)]),
    () => removeContained(host, RESOLV),
    ...(prepared.hadResolv ? [() => renameContained(host, RESOLV_SAVED, RESOLV)] : []),
  ];
  for (const step of steps) {
    const r = await step();
    // The customize script may have replaced a directory with a link: leave it, say so.
    if (!r.ok) return err(unsafeImageFailure(r.error, 'restoring the image after the chroot'));
  }
  return ok(undefined);
}

/**
 * Unmounts everything below `root` inside the sandbox, deepest first (package scripts may
 * have mounted more, e.g. binfmt_misc). Fails naming what stayed mounted.
 */
export async function unmountBelow<P>(
  ctx: StepRunContext<P>,
  sandbox: Sandbox,
  root: string,
  options: { readonly includeRoot: boolean },
): Promise<Result<void, StepFailure>> {
  const below = (text: string) =>
    mountsBelow(text, root).filter((m) => options.includeRoot || m !== root);
  for (const target of below(await sandbox.mounts())) {
    const r = await runUmount(sandbox.exec, target);
    if (!r.ok) ctx.log(`umount ${target}: ${r.error.stderrTail.join(' ')}`);
  }
  const left = below(await sandbox.mounts());
  return left.length === 0
    ? ok(undefined)
    : err(
        stepFailure(
          'host',
          'unmount-failed',
          `could not unmount ${left.join(', ')} after the chroot; the step's log has umount's message.`,
        ),
      );
}

/**
 * Mounts what a chroot needs under `root` (a path inside `sandbox`), runs `body`, and
 * undoes it all. While it runs, /etc/resolv.conf is the host's and /usr/sbin/policy-rc.d
 * forbids starting services (Debian's invoke-rc.d convention). Afterwards every process
 * left in the sandbox (a daemon a package started anyway) is killed before the image is
 * touched again. The first failure wins: body's, then restoring's, then unmounting's.
 */
export async function withChrootMounts<T, P>(
  ctx: StepRunContext<P>,
  sandbox: Sandbox,
  root: string,
  body: () => Promise<Result<T, StepFailure>>,
): Promise<Result<T, StepFailure>> {
  let prepared: Prepared | undefined;
  const cleanUp = async (): Promise<Result<void, StepFailure>> => {
    const killed = await sandbox.killInside();
    if (killed > 0) ctx.log(`stopped ${killed} process(es) still running in the image`);
    const restored = prepared ? await restore(sandbox, root, prepared) : ok(undefined);
    const unmounted = await unmountBelow(ctx, sandbox, root, { includeRoot: false });
    return restored.ok ? unmounted : restored;
  };
  let result: Result<T, StepFailure>;
  try {
    const p = await prepare(ctx, sandbox, root);
    if (p.ok) {
      prepared = p.value;
      result = await body();
    } else result = p;
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
  const cleaned = await cleanUp();
  return result.ok && !cleaned.ok ? err(cleaned.error) : result;
}
