// install-os from an installer ISO, unattended and headless: check the ISO's SHA-256,
// find the installer's kernel and initrd in it, generate (or take) the answer file and
// inject it (initrd append for preseed and kickstart, a NoCloud seed ISO for
// autoinstall), then boot QEMU with direct kernel boot and the serial console in
// logs/install.log. Success only when the guest powers itself off.
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type {
  HostFacts,
  StepDescription,
  StepFailure,
  StepOutputs,
  StepRunContext,
  StepSpec,
} from '../plan/step.js';
import type { IsoInstallParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { QEMU_SYSTEM, vmArgs, type Accel, type VmDrive } from '../tools/qemu.js';
import {
  buildIsoArgs,
  extractArgs,
  listFilesArgs,
  parseFileList,
  parseVolumeId,
  pvdInfoArgs,
  runXorriso,
} from '../tools/xorriso.js';
import { generatedAnswerFile, injectAnswers } from './answer-inject.js';
import { installerMirror } from '../guest/answers/installer-mirror.js';
import { hostAptSources } from './install-debootstrap.js';
import { deriveDisk } from './disk-write.js';
import { probeDisk } from '../vm/disk-probe.js';
import { bootInstaller } from '../vm/installer-vm.js';
import { downloadIso } from './iso-download.js';
import {
  detectIsoLayout,
  installerKernelArgs,
  unrecognisedLayoutMessage,
} from '../guest/iso-layout.js';
import { planCommand } from './plan-command.js';
import { fsStepFailureOrRethrow, stepFailure, toolStepFailure } from '../plan/step-failure.js';
import { diskFileName, logFile, scratchDir, upstreamDisk } from './upstream.js';

/** SHA-256 of a file, streamed, with byte progress. */
async function sha256File(ctx: StepRunContext<IsoInstallParams>, path: string): Promise<string> {
  const total = (await stat(path)).size;
  const hash = createHash('sha256');
  let done = 0;
  let last = 0;
  for await (const chunk of createReadStream(path, { signal: ctx.signal })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    done += bytes.length;
    if (done - last > 64 * 2 ** 20 || done === total) {
      last = done;
      ctx.progress({ done, total, unit: 'bytes', message: 'checking the ISO' });
    }
  }
  return hash.digest('hex');
}

export function describeIso(step: StepSpec<IsoInstallParams>, facts: HostFacts): StepDescription {
  const p = step.params;
  const accel: Accel | 'unknown' = p.accel === 'auto' ? facts.accel : p.accel;
  const custom = step.inputs.some((i) => i.name === 'answer-file');
  const inject =
    p.answers === 'autoinstall'
      ? planCommand(
          'xorriso',
          buildIsoArgs({ dir: '<tmp>/seed', out: '<tmp>/seed.iso', volumeId: 'CIDATA' }),
        )
      : `append ${p.answers === 'preseed' ? '/preseed.cfg' : '/ks.cfg'} to the installer's initrd (cpio, gzip)`;
  return {
    summary: `install from the ISO unattended (${p.answers}, ${custom ? 'your answer file' : 'generated answer file'}), headless, power-off within ${Math.round(p.timeoutMs / 60_000)} min`,
    commands: [
      `sha256sum <iso>${p.sha256 ? ` (expects ${p.sha256})` : ''}`,
      planCommand('xorriso', listFilesArgs('<iso>')),
      planCommand(
        'xorriso',
        extractArgs('<iso>', [
          ['<kernel>', '<tmp>/vmlinuz'],
          ['<initrd>', '<tmp>/initrd'],
        ]),
      ),
      inject,
      planCommand(
        QEMU_SYSTEM,
        vmArgs({
          accel: accel === 'unknown' ? 'tcg' : accel,
          memoryBytes: p.memoryBytes,
          cpus: p.cpus,
          kernel: '<tmp>/vmlinuz',
          initrd: '<tmp>/initrd',
          append: '<installer arguments>',
          drives: [
            { path: '<out>/disk.qcow2', format: 'qcow2', media: 'disk' },
            { path: '<iso>', format: 'raw', media: 'cdrom' },
          ],
          network: true,
        }),
      ),
    ],
    effects: [],
    notes: [
      `accelerator: ${accel === 'unknown' ? 'KVM if a short probe boots a guest, else TCG (not probed yet)' : accel.toUpperCase()}${p.accel === 'auto' ? ' (auto)' : ''}`,
      `memory ${formatSize(p.memoryBytes)}, ${p.cpus} CPU${p.cpus > 1 ? 's' : ''}; serial console in logs/install.log`,
    ],
  };
}

/** Resolves the accelerator for this install: the recipe's choice, checked against the probe. */
async function chooseAccel(
  ctx: StepRunContext<IsoInstallParams>,
): Promise<Result<Accel, StepFailure>> {
  const wanted = ctx.step.params.accel;
  if (wanted === 'tcg') return ok('tcg');
  const probed = await ctx.accel();
  if (wanted === 'kvm' && probed !== 'kvm')
    return err(
      stepFailure(
        'host',
        'kvm-unavailable',
        'install.vm.accel is kvm, but KVM does not work on this host (the probe failed; see `emi-recipe doctor`). Use accel: auto or tcg.',
      ),
    );
  return ok(probed);
}

/** Runs install-os for `source: iso`. */
export async function installIso(
  ctx: StepRunContext<IsoInstallParams>,
): Promise<Result<StepOutputs, StepFailure>> {
  const p = ctx.step.params;
  const isoInput = ctx.step.inputs.find((i) => i.name === 'iso');
  let iso: string;
  if (isoInput) {
    iso = isoInput.path;
  } else if (p.url && p.sha256) {
    const downloaded = await downloadIso(ctx, { url: p.url, sha256: p.sha256 });
    if (!downloaded.ok) return downloaded;
    iso = downloaded.value;
  } else {
    return err(
      stepFailure(
        'input',
        'iso-missing',
        'the recipe names no ISO: give install.iso.path, or install.iso.url with install.iso.sha256',
      ),
    );
  }
  const base = upstreamDisk(ctx);
  if (!base.ok) return base;
  const scratch = await scratchDir(ctx);
  const sockDir = await mkdtemp(join(tmpdir(), 'emi-qmp-'));
  try {
    ctx.log(`checking the SHA-256 of ${iso}`);
    const read = await sha256File(ctx, iso).then(ok, (error: unknown) => {
      // Gone or replaced since the plan read it: the user's to fix, not a bug.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return err(code);
      throw error;
    });
    if (!read.ok)
      return err(
        stepFailure('input', 'iso-missing', `the ISO ${iso} cannot be read (${read.error})`, {
          path: iso,
          hint: 'Check install.iso.path, then run the same command again.',
        }),
      );
    const digest = read.value;
    if (p.sha256 && digest !== p.sha256.toLowerCase())
      return err(
        stepFailure(
          'input',
          'iso-checksum-mismatch',
          `the ISO's SHA-256 is ${digest}, the recipe expects ${p.sha256}: check the file (a partial or different download?) or update install.iso.sha256. Nothing was booted.`,
        ),
      );
    if (!p.sha256) ctx.log(`note: the recipe pins no SHA-256; this ISO's is ${digest}`);

    const listing = await runXorriso(ctx.exec, ctx, listFilesArgs(iso));
    if (!listing.ok)
      return err(toolStepFailure(listing.error, 'reading the ISO', 'Is it an ISO 9660 image?'));
    const files = parseFileList(listing.value.stdout);
    const layout = detectIsoLayout(files, p.arch);
    if (!layout) {
      const custom = ctx.step.inputs.some((i) => i.name === 'answer-file');
      return err(
        stepFailure(
          'input',
          'iso-layout-unknown',
          unrecognisedLayoutMessage(files, p.arch) +
            (custom
              ? ''
              : ' Your own answer file (install.answerFile) does not help here: the kernel and initrd must be found first.'),
        ),
      );
    }
    ctx.log(`layout: ${layout.description}: kernel ${layout.kernel}, initrd ${layout.initrd}`);
    if (layout.answers !== p.answers)
      return err(
        stepFailure(
          'input',
          'answers-mismatch',
          `the ISO is a ${layout.description}, which takes ${layout.answers} answers, but install.answers is ${p.answers}: set install.answers: ${layout.answers}.`,
        ),
      );
    const pvd = await runXorriso(ctx.exec, ctx, pvdInfoArgs(iso));
    const volumeId = pvd.ok ? parseVolumeId(pvd.value.stdout) : null;

    const kernel = join(scratch.dir, 'vmlinuz');
    const initrd = join(scratch.dir, 'initrd');
    const extracted = await runXorriso(
      ctx.exec,
      ctx,
      extractArgs(iso, [
        [layout.kernel, kernel],
        [layout.initrd, initrd],
      ]),
    );
    if (!extracted.ok)
      return err(
        toolStepFailure(extracted.error, 'copying the installer kernel and initrd out of the ISO'),
      );

    const answerInput = ctx.step.inputs.find((i) => i.name === 'answer-file');
    let answer: string;
    if (answerInput) {
      answer = await readFile(answerInput.path, 'utf8');
      ctx.log(`answer file: ${answerInput.path}`);
    } else {
      const mirror = p.answers === 'preseed' ? installerMirror(await hostAptSources()) : null;
      answer = generatedAnswerFile(p, mirror);
      ctx.log('answer file: generated from the recipe');
      if (p.answers === 'preseed')
        ctx.log(
          mirror
            ? `installer mirror (this host's apt sources): ${mirror.protocol}://${mirror.hostname}${mirror.directory}`
            : "installer mirror: none in this host's apt sources; the installer's default for the locale's country",
        );
    }
    await writeFile(join(scratch.dir, `answers-${p.answers}`), answer);
    const drives: VmDrive[] = [];
    const file = diskFileName(base.value.format);
    const disk = join(ctx.outDir, file);
    const made = await deriveDisk(ctx, base.value, disk);
    if (!made.ok) return made;
    drives.push(
      { path: disk, format: base.value.format, media: 'disk' },
      { path: iso, format: 'raw', media: 'cdrom' },
    );
    const injected = await injectAnswers(ctx, { layout, answer, initrd, scratch: scratch.dir });
    if (!injected.ok) return injected;
    if (injected.value) drives.push({ path: injected.value, format: 'raw', media: 'cdrom' });

    const accel = await chooseAccel(ctx);
    if (!accel.ok) return accel;
    const booted = await bootInstaller(ctx, {
      logPath: await logFile(ctx, 'install.log'),
      accel: accel.value,
      kernel,
      initrd,
      append: installerKernelArgs(layout, { volumeId, extra: p.kernelArgs }).join(' '),
      drives,
      sockDir,
    });
    if (!booted.ok) return booted;

    const probed = await probeDisk(ctx.exec, ctx, {
      disk,
      format: base.value.format,
      sizeBytes: base.value.sizeBytes,
      tmpDir: scratch.dir,
    });
    if (!probed.ok) return probed;
    ctx.log(
      `installed root file system: partition ${probed.value.root.number} (${probed.value.root.fs.kind})`,
    );
    return ok({
      artifacts: { disk: file },
      values: {
        format: base.value.format,
        sizeBytes: base.value.sizeBytes,
        layout: layout.kind,
        accel: accel.value,
        sha256: digest,
        rootPartition: probed.value.root.number,
      },
    });
  } catch (error) {
    // A full or read-only work directory is the user's to fix; anything else is a bug (rethrown).
    return err(
      fsStepFailureOrRethrow(error, {
        doing: 'installing from the ISO',
        fallbackPath: ctx.workDir,
      }),
    );
  } finally {
    await scratch.remove();
    await rm(sockDir, { recursive: true, force: true });
  }
}
