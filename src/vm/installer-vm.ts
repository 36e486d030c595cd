// Running an installer VM to its end: QEMU with direct kernel boot and a QMP listener,
// the serial console into logs/install.log, progress from the console, a timeout, and
// success only when the guest powered itself off (QMP SHUTDOWN, reason guest-shutdown).
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import type { IsoInstallParams } from '../plan/step-params.js';
import { formatCommand } from '../tools/exec.js';
import { listenQmp, qmpClientArgs } from '../tools/qmp.js';
import { QEMU_SYSTEM, vmArgs, type Accel, type VmDrive } from '../tools/qemu.js';
import { installerProgressStream } from '../guest/iso-layout.js';
import { stepFailure, toolStepFailure } from '../plan/step-failure.js';

/** Boots the installer and waits for it to power the guest off. */
export async function bootInstaller(
  ctx: StepRunContext<IsoInstallParams>,
  o: {
    accel: Accel;
    kernel: string;
    initrd: string;
    append: string;
    drives: VmDrive[];
    sockDir: string;
    /** Where the serial console is written (logs/install.log of the work directory). */
    logPath: string;
  },
): Promise<Result<void, StepFailure>> {
  const p = ctx.step.params;
  const socket = join(o.sockDir, 'qmp.sock');
  const qmp = await listenQmp(socket);
  const args = vmArgs({
    accel: o.accel,
    memoryBytes: p.memoryBytes,
    cpus: p.cpus,
    kernel: o.kernel,
    initrd: o.initrd,
    append: o.append,
    drives: o.drives,
    network: true,
    extra: qmpClientArgs(socket),
  });
  const logPath = o.logPath;
  const serialLog = createWriteStream(logPath, { flags: 'w' });
  const header = [
    `# emi-recipe install-os: ${new Date().toISOString()}`,
    `# accelerator: ${o.accel.toUpperCase()}`,
    `# ${formatCommand(QEMU_SYSTEM, args)}`,
    '',
  ];
  serialLog.write(header.join('\n'));
  ctx.log(`accelerator: ${o.accel.toUpperCase()}`);
  ctx.log(`$ ${formatCommand(QEMU_SYSTEM, args)}`);
  ctx.log(`serial console: ${logPath}`);
  let lastMessage = '';
  const readProgress = installerProgressStream();
  const tail: string[] = [];
  try {
    const r = await ctx.exec(QEMU_SYSTEM, args, {
      signal: ctx.signal,
      timeoutMs: p.timeoutMs,
      killGraceMs: 5000,
      keepStdout: false,
      onLine: (line) => {
        serialLog.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      },
      // Progress from the text as it arrives: d-i ends a stage's line only when it is done.
      onText: (text) => {
        const readings = readProgress(text);
        for (const progress of readings) {
          if (progress.message !== lastMessage) ctx.log(`installer: ${progress.message}`);
          lastMessage = progress.message;
        }
        const progress = readings.at(-1);
        if (progress)
          ctx.progress(
            progress.percent !== null
              ? { done: progress.percent, total: 100, unit: 'percent', message: progress.message }
              : { done: 0, unit: 'items', message: progress.message },
          );
      },
    });
    const shutdowns = qmp.shutdowns();
    if (!r.ok) {
      if (r.error.reason === 'timeout')
        return err(
          stepFailure(
            'guest',
            'install-timeout',
            `the installer did not power the VM off within ${Math.round(p.timeoutMs / 1000)}s (${o.accel.toUpperCase()}) and was stopped. The console is in ${logPath}; its last lines are below. If it was still working, raise install.vm.timeout; if it waits for an answer, fix the answer file.`,
            { command: r.error.command, outputTail: tail },
          ),
        );
      // QEMU's own stderr says little: the console's last lines come first in the tail.
      const stderrTail = [...tail, ...r.error.stderrTail].slice(-20);
      return err(
        toolStepFailure({ ...r.error, stderrTail }, 'running the installer VM', `See ${logPath}.`),
      );
    }
    if (shutdowns.some((s) => s.guest && s.reason === 'guest-shutdown')) {
      ctx.log('the installer powered the VM off');
      return ok(undefined);
    }
    const how =
      shutdowns.map((s) => s.reason).join(', ') ||
      (qmp.connected() ? 'no shutdown event' : 'QMP never connected');
    return err(
      stepFailure(
        'guest',
        'install-no-poweroff',
        `QEMU ended without the guest powering off (${how}). A reboot means the answer file should power off at the end (preseed: d-i debian-installer/exit/poweroff boolean true; kickstart: poweroff; autoinstall: shutdown: poweroff). See ${logPath}.`,
        { outputTail: tail },
      ),
    );
  } finally {
    await new Promise<void>((resolve) => serialLog.end(resolve));
    await qmp.close();
  }
}
