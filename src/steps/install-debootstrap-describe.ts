// What `plan` shows for a debootstrap install. Pure (the mirror is shown as chosen at run
// time). Its commands come from install-debootstrap-commands.ts, like the run's.
import type { StepDescription } from '../plan/step.js';
import type { DebootstrapInstallParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { planCommand } from './plan-command.js';
import { debootstrapArgs } from '../tools/debootstrap.js';
import { copyRangeInArgs, createOverlayArgs } from '../tools/qemu-img.js';
import { ROOT_LABEL } from '../guest/debootstrap-config.js';
import {
  debootstrapCacheDir,
  debootstrapOptions,
  rootFileSystemArgs,
} from './install-debootstrap-commands.js';

export function describeDebootstrap(p: DebootstrapInstallParams): StepDescription {
  const tree = '<tmp>/tree';
  const commands = [
    planCommand(
      'debootstrap',
      debootstrapArgs(
        debootstrapOptions(p, {
          tree,
          mirror: p.mirror ?? '<mirror>',
          cacheDir: debootstrapCacheDir('<cache>', p),
        }),
      ),
    ),
    planCommand('mke2fs', rootFileSystemArgs(p, { image: '<tmp>/disk.raw', tree })),
  ];
  if (p.diskFormat === 'qcow2') {
    commands.push(
      planCommand(
        'qemu-img',
        createOverlayArgs({
          path: '<out>/disk.qcow2',
          backingPath: '<create-disk>/disk.qcow2',
          backingFormat: 'qcow2',
        }),
      ),
      planCommand(
        'qemu-img',
        copyRangeInArgs({
          from: '<tmp>/disk.raw',
          to: {
            path: '<out>/disk.qcow2',
            format: 'qcow2',
            offsetBytes: 0,
            sizeBytes: p.diskSizeBytes,
          },
        }),
      ),
    );
  }
  return {
    summary: `install ${p.suite} (${p.variant}) with debootstrap, kernel ${p.kernelPackage}, into a ${formatSize(p.diskSizeBytes)} disk`,
    commands,
    effects: [],
    notes: [
      p.mirror
        ? `mirror: ${p.mirror}`
        : "mirror: the host's apt sources for this suite, else debootstrap's default",
      'needs root',
      `locale ${p.locale}, time zone ${p.timezone}; DHCP on the first NIC; fstab by LABEL=${ROOT_LABEL}`,
    ],
  };
}
