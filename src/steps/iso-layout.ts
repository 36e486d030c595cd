// Recognising an installer ISO from its file list: where its kernel and initrd are and
// which answer-file flavour it takes. Pure.
import type { IsoInstallParams } from '../plan/step-params.js';

export type IsoLayoutKind = 'debian-installer' | 'ubuntu-legacy' | 'ubuntu-live' | 'redhat';

export interface IsoLayout {
  readonly kind: IsoLayoutKind;
  /** Paths inside the ISO. */
  readonly kernel: string;
  readonly initrd: string;
  readonly answers: IsoInstallParams['answers'];
  /** For people: "Debian installer (install.amd)". */
  readonly description: string;
}

interface Candidate {
  readonly kind: IsoLayoutKind;
  readonly kernel: readonly string[];
  readonly initrd: readonly string[];
  readonly answers: IsoInstallParams['answers'];
  readonly description: string;
  /** Another file that must exist to tell this layout from a look-alike. */
  readonly marker?: RegExp;
}

/** The layouts, most specific first, per architecture. */
function candidates(arch: IsoInstallParams['arch']): Candidate[] {
  const d = arch === 'x86_64' ? 'install.amd' : 'install.386';
  return [
    {
      kind: 'debian-installer',
      kernel: [`/${d}/vmlinuz`],
      initrd: [`/${d}/initrd.gz`],
      answers: 'preseed',
      description: `Debian installer (/${d})`,
    },
    {
      kind: 'ubuntu-live',
      kernel: ['/casper/vmlinuz', '/casper/hwe-vmlinuz'],
      initrd: ['/casper/initrd', '/casper/initrd.gz', '/casper/initrd.lz', '/casper/hwe-initrd'],
      answers: 'autoinstall',
      description: 'Ubuntu live server (/casper, autoinstall)',
    },
    {
      kind: 'ubuntu-legacy',
      kernel: [
        '/install/vmlinuz',
        '/install/netboot/ubuntu-installer/amd64/linux',
        '/install/netboot/ubuntu-installer/i386/linux',
      ],
      initrd: [
        '/install/initrd.gz',
        '/install/netboot/ubuntu-installer/amd64/initrd.gz',
        '/install/netboot/ubuntu-installer/i386/initrd.gz',
      ],
      answers: 'preseed',
      description: 'Ubuntu legacy/alternate installer (/install, preseed)',
    },
    {
      kind: 'redhat',
      kernel: ['/images/pxeboot/vmlinuz', '/isolinux/vmlinuz'],
      initrd: ['/images/pxeboot/initrd.img', '/isolinux/initrd.img'],
      answers: 'kickstart',
      description: 'Red Hat family installer (/images/pxeboot, kickstart)',
      marker: /^\/(images\/install\.img|\.treeinfo|images\/pxeboot\/)/,
    },
  ];
}

/** The layout of an ISO with these files, or null when none is recognised. */
export function detectIsoLayout(
  files: readonly string[],
  arch: IsoInstallParams['arch'],
): IsoLayout | null {
  const present = new Set(files);
  for (const c of candidates(arch)) {
    const kernel = c.kernel.find((k) => present.has(k));
    const initrd = c.initrd.find((i) => present.has(i));
    if (!kernel || !initrd) continue;
    if (c.marker && !files.some((f) => c.marker?.test(f))) continue;
    return { kind: c.kind, kernel, initrd, answers: c.answers, description: c.description };
  }
  return null;
}

/** What the step says when the layout is not recognised: what it looked for and what the ISO has. */
export function unrecognisedLayoutMessage(
  files: readonly string[],
  arch: IsoInstallParams['arch'],
): string {
  const looked = candidates(arch)
    .map((c) => c.kernel[0])
    .join(', ');
  const top = [...new Set(files.map((f) => f.split('/').slice(0, 2).join('/')))]
    .slice(0, 12)
    .join(', ');
  return (
    `the ISO's layout is not recognised: none of ${looked} (with an initrd beside it) was found ` +
    `(top level: ${top || 'empty'}). Use a Debian or Ubuntu installer, an Ubuntu live server or a ` +
    'Red Hat family (RHEL, Rocky, Alma, CentOS, Fedora) ISO, or install with install.debootstrap.'
  );
}

/** Kernel arguments that make each installer unattended and talk on the serial console. */
export function installerKernelArgs(
  layout: IsoLayout,
  options: { readonly volumeId: string | null; readonly extra: readonly string[] },
): string[] {
  const args = ['console=ttyS0,115200n8'];
  switch (layout.answers) {
    case 'preseed':
      // The installer reads /preseed.cfg from its initrd by itself (initrd preseeding).
      args.push(
        'auto=true',
        'priority=critical',
        'preseed/file=/preseed.cfg',
        'DEBIAN_FRONTEND=text',
      );
      break;
    case 'kickstart':
      args.push('inst.ks=file:/ks.cfg', 'inst.text');
      if (options.volumeId)
        args.push(`inst.stage2=hd:LABEL=${options.volumeId.replace(/ /g, '\\x20')}`);
      break;
    case 'autoinstall':
      args.push('autoinstall', 'ds=nocloud');
      break;
  }
  return [...args, ...options.extra];
}

/**
 * A rough progress reading from an installer's console line: percentages (Debian's text
 * frontend, the tests' installer), anaconda's "(12/345)" package counts, subiquity's
 * "start: subiquity/…" stages. null for other lines.
 */
export function parseInstallerProgress(
  line: string,
): { percent: number | null; message: string } | null {
  // eslint-disable-next-line no-control-regex -- terminal escape sequences (ESC [) from the installer's UI
  const clean = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
  const count = /\((\d+)\/(\d+)\)/.exec(clean);
  if (count) {
    const done = Number(count[1]);
    const total = Number(count[2]);
    if (total > 0 && done <= total)
      return { percent: Math.round((done / total) * 100), message: clean.slice(0, 80) };
  }
  const pct = /(?:^|\s)(\d{1,3})%(?:\s|$)/.exec(clean);
  if (pct && Number(pct[1]) <= 100) return { percent: Number(pct[1]), message: clean.slice(0, 80) };
  const stage = /(?:start|finish):\s+(subiquity\/\S+|curtin\S*)/.exec(clean);
  if (stage?.[1]) return { percent: null, message: stage[1] };
  return null;
}
