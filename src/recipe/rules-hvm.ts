// The cross-field checks of an hvm recipe (`image.virtualization: hvm`): keys it has no use
// for (warnings), an install whose system make-bootable cannot make bootable (error), and an
// `ami` mapping that Eucalyptus would run with the partitioned layout (warning). Part of
// rules.ts.
import type { Report, RuleContext } from './rule-context.js';

/** Runs the hvm checks; nothing for paravirtual recipes. */
export function checkHvm(context: RuleContext, report: Report): void {
  const { raw } = context;
  if (raw.image?.virtualization !== 'hvm') return;
  checkIgnoredKeys(context, report);
  // make-bootable uses Debian's GRUB layout (grub-pc: /usr/lib/grub/i386-pc, grub-mkimage);
  // Red Hat-family systems have grub2-mkimage and another package set.
  if (raw.install?.iso !== undefined && raw.install.answers === 'kickstart')
    report(
      'error',
      ['install', 'answers'],
      "`image.virtualization: hvm` is not supported for kickstart (Red Hat-family) systems: make-bootable installs GRUB for BIOS from the image's Debian-family grub-pc (grub-mkimage, /usr/lib/grub/i386-pc). Use a Debian-family installer (preseed or autoinstall) or debootstrap, or build a paravirtual image (`image: { virtualization: paravirtual }`)",
    );
  const ami = raw.bundle?.blockDeviceMapping?.ami;
  if (raw.publish?.cloud === 'eucalyptus' && ami !== undefined && /\d$/.test(ami))
    report(
      'warning',
      ['bundle', 'blockDeviceMapping', 'ami'],
      `Eucalyptus runs an instance-store image whose root device is a partition ('${ami}') with the partitioned (paravirtual) disk layout, whatever its virtualization type: leave \`ami\` out for an hvm image (Eucalyptus then uses /dev/sda, the whole disk) or name a disk such as sda`,
    );
}

/** Keys an hvm image has no use for: no root file system image, no kernel or ramdisk. */
function checkIgnoredKeys(context: RuleContext, report: Report): void {
  const { raw } = context;
  if (raw.extract?.rootfsSize !== undefined)
    report(
      'warning',
      ['extract', 'rootfsSize'],
      'ignored with `image.virtualization: hvm`: the machine image is the whole disk (`disk.size`)',
      { part: 'key' },
    );
  for (const key of ['kernel', 'ramdisk'] as const) {
    if (raw.publish?.names?.[key] !== undefined)
      report(
        'warning',
        ['publish', 'names', key],
        'ignored with `image.virtualization: hvm`: no kernel or ramdisk image is registered',
        { part: 'key' },
      );
  }
}
