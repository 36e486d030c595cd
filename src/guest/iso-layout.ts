// Recognising an installer ISO from its file list: where its kernel and initrd are and
// which answer-file flavour it takes. Pure.
import type { AnswerFlavour, Arch } from './spec.js';

export type IsoLayoutKind = 'debian-installer' | 'ubuntu-legacy' | 'ubuntu-live' | 'redhat';

export interface IsoLayout {
  readonly kind: IsoLayoutKind;
  /** Paths inside the ISO. */
  readonly kernel: string;
  readonly initrd: string;
  readonly answers: AnswerFlavour;
  /** For people: "Debian installer (install.amd)". */
  readonly description: string;
}

interface Candidate {
  readonly kind: IsoLayoutKind;
  readonly kernel: readonly string[];
  readonly initrd: readonly string[];
  readonly answers: AnswerFlavour;
  readonly description: string;
  /** Another file that must exist to tell this layout from a look-alike. */
  readonly marker?: RegExp;
}

/** The layouts, most specific first, per architecture. */
function candidates(arch: Arch): Candidate[] {
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
export function detectIsoLayout(files: readonly string[], arch: Arch): IsoLayout | null {
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
export function unrecognisedLayoutMessage(files: readonly string[], arch: Arch): string {
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

/** A progress reading: a percentage (null when the installer gives none) and a stage name. */
export interface InstallerProgress {
  readonly percent: number | null;
  readonly message: string;
}

// Cursor moves (and carriage returns) start a new screen row: GNU screen, which d-i runs
// on the serial console, repaints rows with them inside one newline-terminated line.
// eslint-disable-next-line no-control-regex -- terminal escape sequences (ESC [) from the console
const ROW_BREAK = /\x1b\[(?:\d*(?:;\d*)?)[Hf]|\r/;
// eslint-disable-next-line no-control-regex -- the other escape sequences: colours, clears, charsets
const ESCAPES = /\x1b(?:\[[0-9;?]*[A-Za-z]|[()][0-9A-Za-z]|[=>78])/g;
/** screen's status bar: "[ (1*installer)  2 shell  3 shell  4- log ][ Nov 30 11:14 ]". */
const SCREEN_STATUS = /^\[[^\]]*\(\d+\*[^)]*\)[^\]]*\]\s*\[[^\]]*\]$/;
/** d-i's text frontend: "Title  ... 2%... 95%... 100%", percentages appended as they come. */
const DI_STAGE = /^(.*?\S)\s+\.\.\.((?:\s*\d{1,3}%(?:\.\.\.)?)*)\s*$/;

/** A console row, escapes removed and trimmed; undefined when empty or screen's status bar. */
function readableRow(raw: string): string | undefined {
  const row = raw.replace(ESCAPES, '').trim();
  return row === '' || SCREEN_STATUS.test(row) ? undefined : row;
}

/** The readable rows of a console line: escapes removed, screen's status bar dropped. */
export function consoleRows(line: string): string[] {
  return line.split(ROW_BREAK).flatMap((raw) => readableRow(raw) ?? []);
}

function progressOfRow(row: string): InstallerProgress | null {
  const di = DI_STAGE.exec(row);
  if (di?.[1] !== undefined) {
    const readings = [...(di[2] ?? '').matchAll(/(\d{1,3})%/g)]
      .map((m) => Number(m[1]))
      .filter((n) => n <= 100);
    // A stage with no reading yet has just started: 0%, never the previous stage's 100%.
    return { percent: readings.at(-1) ?? 0, message: di[1].replace(/[\s.]+$/, '').slice(0, 80) };
  }
  const count = /\((\d+)\/(\d+)\)/.exec(row);
  if (count) {
    const done = Number(count[1]);
    const total = Number(count[2]);
    if (total > 0 && done <= total)
      return { percent: Math.round((done / total) * 100), message: row.slice(0, 80) };
  }
  const pct = /(?:^|\s)(\d{1,3})%(?:\s|$)/.exec(row);
  if (pct && Number(pct[1]) <= 100) return { percent: Number(pct[1]), message: row.slice(0, 80) };
  const stage = /(?:start|finish):\s+(subiquity\/\S+|curtin\S*)/.exec(row);
  if (stage?.[1]) return { percent: null, message: stage[1] };
  return null;
}

/** A row that only continues the current stage's readings: "... 40%... 60%" (after a repaint). */
const DI_CONTINUED = /^\.\.\.((?:\s*\d{1,3}%(?:\.\.\.)?)+)\s*$/;
/** A lone reading that screen repainted on its own row: " 50%". */
const BARE_READING = /^(\d{1,3})%$/;
/** A kernel message ("[    0.421062] smp: Bringing up secondary CPUs ..."): never a stage. */
const KERNEL_MESSAGE = /^\[\s*\d+\.\d+\]/;
/** Rows and lines both end at these; a row still being written is read again as it grows. */
const ROW_OR_LINE_BREAK = new RegExp(`${ROW_BREAK.source}|\n`);
/** A row longer than this is not progress; only its end is kept while it grows. */
const MAX_ROW = 2000;

/**
 * A reader of an installer's console as its text arrives (chunks, not lines: d-i's text
 * frontend appends "... 10%... 20%" to its stage's line and ends it only when the stage is
 * done) that returns the latest progress reading in each chunk: Debian's text frontend
 * ("Title ... 25%... 50%", stage name without the dots, the last percentage; under GNU
 * screen each repainted row on its own, the status bar ignored, a row of bare readings
 * continuing the current stage), the tests' installer ("NN% what"), anaconda's "(12/345)"
 * package counts, subiquity's "start: subiquity/…" stages. Kernel messages are not
 * progress. Keeps the current stage across chunks.
 */
export function installerProgressStream(): (text: string) => InstallerProgress[] {
  let stage = '';
  let pending = '';
  const readRow = (row: string): InstallerProgress | null => {
    if (KERNEL_MESSAGE.test(row)) return null;
    const continued = DI_CONTINUED.exec(row);
    const bare = BARE_READING.exec(row);
    if ((continued || bare) && stage !== '') {
      const readings = continued
        ? [...(continued[1] ?? '').matchAll(/(\d{1,3})%/g)].map((m) => Number(m[1]))
        : [Number(bare?.[1])];
      const percent = readings.at(-1);
      return percent !== undefined && percent <= 100 ? { percent, message: stage } : null;
    }
    if (row.startsWith('...')) return null;
    const reading = progressOfRow(row);
    if (reading) stage = DI_STAGE.test(row) ? reading.message : '';
    return reading;
  };
  return (text) => {
    const rows = (pending + text).split(ROW_OR_LINE_BREAK);
    // The last row may still grow: read it now (a stage's readings arrive within it) and
    // again with what follows; reading a row twice gives the same answer.
    pending = (rows.pop() ?? '').slice(-MAX_ROW);
    const readings: InstallerProgress[] = [];
    for (const raw of [...rows, pending]) {
      const row = readableRow(raw);
      const reading = row === undefined ? null : readRow(row);
      if (reading) readings.push(reading);
    }
    return readings;
  };
}

/** The same reader, fed whole console lines (the log, line by line). */
export function installerProgressReader(): (line: string) => InstallerProgress | null {
  const read = installerProgressStream();
  return (line) => read(`${line}\n`).at(-1) ?? null;
}

/** The latest progress reading in one console line, without context (see installerProgressReader). */
export function parseInstallerProgress(line: string): InstallerProgress | null {
  return installerProgressReader()(line);
}
