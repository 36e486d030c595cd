// What `plan` shows for a debootstrap install. Pure (the mirror is shown as chosen at run time).
import type { StepDescription } from '../plan/step.js';
import type { DebootstrapInstallParams } from '../plan/step-params.js';
import { formatSize } from '../recipe/units.js';
import { planCommand } from './plan-command.js';
import { debootstrapArgs } from '../tools/debootstrap.js';
import { mke2fsArgs } from '../tools/e2fs.js';
import { copyRangeInArgs, createOverlayArgs } from '../tools/qemu-img.js';
import { ROOT_LABEL } from '../guest/debootstrap-config.js';
import { PARTITION_OFFSET_BYTES, singlePartitionBytes } from '../guest/disk-layout.js';

export function describeDebootstrap(p: DebootstrapInstallParams): StepDescription {
  const include = [...new Set([p.kernelPackage, ...p.packages])];
  const commands = [
    planCommand(
      'debootstrap',
      debootstrapArgs({
        suite: p.suite,
        target: '<tmp>/tree',
        arch: p.arch,
        variant: p.variant,
        components: p.components,
        include,
        mirror: p.mirror ?? '<mirror>',
        cacheDir: '<cache>/debootstrap',
      }),
    ),
    planCommand(
      'mke2fs',
      mke2fsArgs({
        image: '<tmp>/disk.raw',
        fromDir: '<tmp>/tree',
        offsetBytes: PARTITION_OFFSET_BYTES,
        sizeBytes: singlePartitionBytes(p.diskSizeBytes),
        label: ROOT_LABEL,
      }),
    ),
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
