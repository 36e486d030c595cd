// install-os from debootstrap: a base system in a scratch directory, configured to
// boot as an instance, then written as an ext4 file system (mke2fs -d, no mount) into
// a one-partition disk — the same kind of disk an ISO install leaves — that becomes a
// copy-on-write overlay of create-disk's disk. Root only.
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  symlink,
  writeFile,
  chmod,
} from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../core/path-exists.js';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepOutputs, StepRunContext } from '../plan/step.js';
import type { DebootstrapInstallParams } from '../plan/step-params.js';
import {
  debootstrapArgs,
  mirrorForSuite,
  parseAptSources,
  parseDebootstrapLine,
  runDebootstrap,
  type AptSource,
} from '../tools/debootstrap.js';
import { runE2fs } from '../tools/e2fs.js';
import { openSandbox, type Sandbox } from '../tools/namespace.js';
import { cacheDir, describeCacheFailure, makeCacheDir } from '../core/cache-dir.js';
import { convertIntoOverlay } from './disk-write.js';
import { bootPairs } from '../guest/boot-files.js';
import {
  debootstrapTreeChanges,
  ROOT_LABEL,
  type TreeChange,
} from '../guest/debootstrap-config.js';
import { singlePartitionMbr } from '../guest/disk-layout.js';
import { fsStepFailureOrRethrow, stepFailure, toolStepFailure } from '../plan/step-failure.js';
import { chrootRun, unmountBelow } from '../vm/chroot-session.js';
import { diskFileName, scratchDir, upstreamDisk } from './upstream.js';
import {
  debootstrapCacheDir,
  debootstrapOptions,
  rootFileSystemArgs,
} from './install-debootstrap-commands.js';

/** The host's apt sources (one-line and deb822 files), for the default mirror. */
export async function hostAptSources(): Promise<AptSource[]> {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name.endsWith('.list') || name.endsWith('.sources')) files.push(join(dir, name));
  const sources: AptSource[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    sources.push(...parseAptSources(text));
  }
  return sources;
}

async function applyChanges(tree: string, changes: readonly TreeChange[]): Promise<void> {
  for (const change of changes) {
    const path = join(tree, change.path);
    await mkdir(join(path, '..'), { recursive: true });
    switch (change.kind) {
      case 'write':
        await rm(path, { force: true });
        await writeFile(path, change.content);
        await chmod(path, change.mode);
        break;
      case 'symlink':
        await rm(path, { force: true });
        await symlink(change.target, path);
        break;
      case 'remove':
        await rm(path, { force: true, recursive: true });
        break;
    }
  }
}

/** What the install needs from the host; unit tests give fakes (no root, no namespaces). */
export interface InstallDebootstrapHost {
  readonly isRoot: () => boolean;
  readonly openSandbox: typeof openSandbox;
}

const REAL_HOST: InstallDebootstrapHost = {
  isRoot: () => process.getuid?.() === 0,
  openSandbox,
};

/** Runs install-os for `source: debootstrap`. */
export async function installDebootstrap(
  ctx: StepRunContext<DebootstrapInstallParams>,
  host: InstallDebootstrapHost = REAL_HOST,
): Promise<Result<StepOutputs, StepFailure>> {
  const p = ctx.step.params;
  if (!host.isRoot())
    return err(
      stepFailure(
        'host',
        'needs-root',
        'debootstrap needs root (it creates device nodes and runs package scripts in a chroot). Run emi-recipe as root (sudo), or install from an ISO (install.iso), which needs no root.',
      ),
    );
  const base = upstreamDisk(ctx);
  if (!base.ok) return base;
  const scratch = await scratchDir(ctx);
  const tree = join(scratch.dir, 'tree');
  // debootstrap and locale-gen run in a private mount and PID namespace: the /proc and
  // /sys debootstrap mounts in the tree, and dpkg and the package scripts it starts,
  // end with emi-recipe even when it is killed with SIGKILL (tools/namespace.ts).
  const opened = await host.openSandbox(ctx.exec, ctx);
  if (!opened.ok) {
    await scratch.remove();
    return err(
      toolStepFailure(
        opened.error,
        'creating a private mount and PID namespace for debootstrap',
        'debootstrap needs unshare (util-linux) and CAP_SYS_ADMIN.',
      ),
    );
  }
  const sandbox: Sandbox = opened.value;
  try {
    const mirror = p.mirror ?? mirrorForSuite(await hostAptSources(), p.suite);
    ctx.log(`mirror: ${mirror ?? "debootstrap's default"}`);
    // Downloaded .debs are kept between builds (debootstrap checks them against the
    // signed Release file, so a stale cache never changes the result, only the time).
    let debCache =
      process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE === 'off'
        ? undefined
        : debootstrapCacheDir(cacheDir(), p);
    if (debCache) {
      const made = await makeCacheDir(debCache);
      if (!made.ok) {
        // The cache only saves time: build without it rather than fail.
        ctx.log(`not keeping .debs: ${describeCacheFailure(made.error)}`);
        debCache = undefined;
      }
    }
    const options = debootstrapOptions(p, {
      tree,
      mirror,
      ...(debCache ? { cacheDir: debCache } : {}),
    });
    ctx.log(`$ debootstrap ${debootstrapArgs(options).join(' ')}`);
    const boot = await runDebootstrap(sandbox.exec, ctx, options, (line) => {
      ctx.log(line);
      const phase = parseDebootstrapLine(line);
      if (phase)
        ctx.progress({ done: phase.percent, total: 100, unit: 'percent', message: phase.message });
    });
    if (!boot.ok) {
      const logTail = await readFile(join(tree, 'debootstrap', 'debootstrap.log'), 'utf8').catch(
        () => '',
      );
      // debootstrap says why in its own log, not on stderr: its last lines join the tail.
      const stderrTail = [
        ...boot.error.stderrTail,
        ...logTail.split('\n').filter(Boolean).slice(-10),
      ];
      return err(
        toolStepFailure(
          { ...boot.error, stderrTail },
          'installing with debootstrap',
          'Check the suite, the package names in install.debootstrap (packages, kernelPackage) and the mirror; the lines below come from debootstrap.',
        ),
      );
    }
    // Nothing debootstrap started may keep running in the tree (or keep a mount busy).
    await sandbox.killInside();
    const unmounted = await unmountBelow(ctx, sandbox, tree, { includeRoot: true });
    if (!unmounted.ok) return unmounted;

    const { changes, notes, generateLocale } = debootstrapTreeChanges(
      { locale: p.locale, timezone: p.timezone, hostname: 'localhost' },
      {
        hasIfupdown: await pathExists(join(tree, 'sbin/ifup')),
        hasNetworkd: await pathExists(join(tree, 'lib/systemd/systemd-networkd')),
        hasLocaleGen: await pathExists(join(tree, 'usr/sbin/locale-gen')),
        hasZone: await pathExists(join(tree, 'usr/share/zoneinfo', p.timezone)),
      },
    );
    notes.forEach((n) => {
      ctx.log(`note: ${n}`);
    });
    await applyChanges(tree, changes);
    if (generateLocale !== null) {
      const r = await chrootRun(ctx, sandbox, tree, ['locale-gen']);
      if (!r.ok) return r;
    }
    // Complete package lists (debootstrap leaves the Packages files only): a customize step's
    // `apt-get update` then finds them current instead of fetching and unpacking the
    // translations on every change. Not fatal: customize updates the lists itself anyway.
    const listed = await chrootRun(ctx, sandbox, tree, ['apt-get', 'update', '-q']);
    if (!listed.ok)
      ctx.log(
        'note: apt-get update failed in the new system; customize will update the package lists',
      );

    const bootNames = await readdir(join(tree, 'boot')).catch(() => [] as string[]);
    const kernels = bootPairs(bootNames).map((b) => b.version);
    if (kernels.length === 0)
      return err(
        stepFailure(
          'guest',
          'no-kernel',
          `debootstrap finished but /boot has no kernel with an initrd (found: ${bootNames.join(', ') || 'nothing'}). Check install.debootstrap.kernelPackage (${p.kernelPackage}).`,
        ),
      );

    ctx.progress({ done: 0, total: 100, unit: 'percent', message: 'writing the file system' });
    const raw = join(scratch.dir, 'disk.raw');
    const handle = await open(raw, 'w');
    try {
      await handle.truncate(p.diskSizeBytes);
      await handle.write(singlePartitionMbr(p.diskSizeBytes), 0, 512, 0);
    } finally {
      await handle.close();
    }
    // Files a running build host would have put there; the image gets its own at boot.
    await rm(join(tree, 'etc/resolv.conf'), { force: true });
    await writeFile(join(tree, 'etc/resolv.conf'), '');
    await rm(join(tree, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(join(tree, 'var/cache/apt/archives/partial'), { recursive: true });
    const mk = await runE2fs(ctx.exec, ctx, 'mke2fs', rootFileSystemArgs(p, { image: raw, tree }));
    if (!mk.ok)
      return err(
        toolStepFailure(
          mk.error,
          'writing the root file system (mke2fs -d)',
          'The installed system may not fit: raise disk.size.',
        ),
      );
    await rm(tree, { recursive: true, force: true });

    const file = diskFileName(p.diskFormat);
    if (p.diskFormat === 'raw') {
      await rename(raw, join(ctx.outDir, file));
    } else {
      const w = await convertIntoOverlay(ctx, {
        raw,
        base: base.value,
        out: join(ctx.outDir, file),
      });
      if (!w.ok) return w;
    }
    return ok({
      artifacts: { disk: file },
      values: {
        format: p.diskFormat,
        sizeBytes: p.diskSizeBytes,
        rootPartition: 1,
        rootLabel: ROOT_LABEL,
        kernelVersions: kernels,
        mirror: mirror ?? null,
      },
    });
  } catch (error) {
    // A full or read-only work directory is the user's to fix; anything else is a bug (rethrown).
    return err(
      fsStepFailureOrRethrow(error, {
        doing: 'installing with debootstrap',
        fallbackPath: ctx.workDir,
      }),
    );
  } finally {
    // Closing the namespace undoes whatever is still mounted in it before the tree goes.
    await sandbox.close();
    await scratch.remove();
  }
}
