// What a debootstrap tree needs to boot as a cloud instance with direct kernel boot
// (root=/dev/vda, any NIC name): fstab by label, a hostname, DHCP on the first NIC,
// locale and time zone. Pure: a list of changes, applied by install-debootstrap.ts.

/** The root file system's label; fstab mounts / by it, so /dev/vda, /dev/sda1 or xvda1 all work. */
export const ROOT_LABEL = 'cloudimg-rootfs';

/** One change to the tree. Paths are absolute inside the tree. */
export type TreeChange =
  | {
      readonly kind: 'write';
      readonly path: string;
      readonly content: string;
      readonly mode: number;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'remove'; readonly path: string };

/** What the tree has, as far as the configuration depends on it. */
export interface TreeFacts {
  readonly hasIfupdown: boolean;
  readonly hasNetworkd: boolean;
  readonly hasLocaleGen: boolean;
  /** The time zone's file exists under /usr/share/zoneinfo. */
  readonly hasZone: boolean;
}

export const INTERFACES = `# Written by emi-recipe: loopback, and DHCP on the first Ethernet NIC whatever
# udev named it (eth0, ens3, enp0s3...): an ifupdown pattern, see interfaces(5).
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

auto /e*/1=nic
iface nic inet dhcp
`;

export const NETWORKD_DHCP = `# Written by emi-recipe: DHCP on Ethernet NICs whatever their names.
[Match]
Name=en* eth*

[Network]
DHCP=yes
`;

/**
 * The changes for a fresh debootstrap tree. The locale is used when the tree can
 * generate it (locales installed) or it is a C locale; else C.UTF-8, and `notes`
 * says so.
 */
export function debootstrapTreeChanges(
  options: { readonly locale: string; readonly timezone: string; readonly hostname: string },
  facts: TreeFacts,
): { changes: TreeChange[]; notes: string[]; generateLocale: string | null } {
  const notes: string[] = [];
  const changes: TreeChange[] = [
    {
      kind: 'write',
      path: '/etc/fstab',
      content: `# Written by emi-recipe: the root file system by label (instances see /dev/vda, sda1 or xvda1).\nLABEL=${ROOT_LABEL}\t/\text4\tdefaults,errors=remount-ro\t0\t1\n`,
      mode: 0o644,
    },
    { kind: 'write', path: '/etc/hostname', content: `${options.hostname}\n`, mode: 0o644 },
    {
      kind: 'write',
      path: '/etc/hosts',
      content: `127.0.0.1\tlocalhost\n127.0.1.1\t${options.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
      mode: 0o644,
    },
  ];
  if (facts.hasIfupdown) {
    changes.push({
      kind: 'write',
      path: '/etc/network/interfaces',
      content: INTERFACES,
      mode: 0o644,
    });
  } else if (facts.hasNetworkd) {
    changes.push(
      {
        kind: 'write',
        path: '/etc/systemd/network/80-emi-recipe-dhcp.network',
        content: NETWORKD_DHCP,
        mode: 0o644,
      },
      {
        kind: 'symlink',
        path: '/etc/systemd/system/multi-user.target.wants/systemd-networkd.service',
        target: '/lib/systemd/system/systemd-networkd.service',
      },
    );
  } else {
    notes.push('no ifupdown and no systemd-networkd in the image: networking is left unconfigured');
  }
  let locale = options.locale;
  let generateLocale: string | null = null;
  if (/^(C|POSIX)(\.|$)/.test(locale)) {
    // Built into glibc: nothing to generate.
  } else if (facts.hasLocaleGen) {
    generateLocale = locale;
    const charset = /\.(.+)$/.exec(locale)?.[1] ?? 'UTF-8';
    changes.push({
      kind: 'write',
      path: '/etc/locale.gen',
      content: `${locale} ${charset}\n`,
      mode: 0o644,
    });
  } else {
    notes.push(`locale ${locale} needs the locales package, which is not installed: using C.UTF-8`);
    locale = 'C.UTF-8';
  }
  changes.push({
    kind: 'write',
    path: '/etc/default/locale',
    content: `LANG=${locale}\n`,
    mode: 0o644,
  });
  changes.push({
    kind: 'write',
    path: '/etc/timezone',
    content: `${options.timezone}\n`,
    mode: 0o644,
  });
  if (facts.hasZone) {
    changes.push({
      kind: 'symlink',
      path: '/etc/localtime',
      target: `/usr/share/zoneinfo/${options.timezone}`,
    });
  } else if (!/^(Etc\/)?UTC$/.test(options.timezone)) {
    notes.push(
      `time zone ${options.timezone} needs the tzdata package, which is not installed: the image runs on UTC`,
    );
  }
  // Units and files a build host leaves that instances must not share.
  changes.push({ kind: 'remove', path: '/etc/udev/rules.d/70-persistent-net.rules' });
  return { changes, notes, generateLocale };
}
