// The install-os step: an installed system on a copy-on-write overlay of create-disk's
// disk, from debootstrap (install-debootstrap.ts) or an installer ISO run unattended
// (install-iso.ts). Reads only install params: customisation never re-runs it.
import type { StepKind } from '../plan/step.js';
import type { InstallParams } from '../plan/step-params.js';
import { describeDebootstrap } from './install-debootstrap-describe.js';
import { installDebootstrap } from './install-debootstrap.js';
import { describeIso, installIso } from './install-iso.js';

/**
 * install-os: artifact `disk` (disk.qcow2 / disk.raw); values `format`, `sizeBytes`,
 * `kernelVersions` and (debootstrap) `rootPartition`, `rootLabel`, `mirror`, (ISO)
 * `layout`, `accel`, `sha256`.
 */
export const installOs: StepKind<InstallParams, 'install-os'> = {
  kind: 'install-os',
  tools: ['qemu-img', 'debootstrap', 'mke2fs', 'qemu-system-x86_64', 'xorriso'],
  typicalMs: 60_000,
  // The installer VM's size and patience do not change the installed system.
  volatileParams: ['memoryBytes', 'cpus', 'accel', 'timeoutMs'],
  describe(step, facts) {
    const p = step.params;
    return p.source === 'debootstrap'
      ? describeDebootstrap(p)
      : describeIso({ ...step, params: p }, facts);
  },
  run(ctx) {
    const p = ctx.step.params;
    if (p.source === 'debootstrap')
      return installDebootstrap({ ...ctx, step: { ...ctx.step, params: p } });
    return installIso({ ...ctx, step: { ...ctx.step, params: p } });
  },
};
