// The generated preseed against the real Debian installer: every question the installer
// (12 and 13) asks at critical priority on emi-recipe's install path is answered. The
// questions come from the installer itself: the netboot initrd of the
// debian-installer-12-netboot-amd64 package (read live) and the records captured from the
// mirror's udebs (test/fixtures/answers/d-i/*.txt, by test/installer/capture-d-i-questions).
// A critical question that is neither answered nor classified below fails the test.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { IsoInstallParams } from '../../../src/plan/step-params.js';
import { answerOptions } from '../../../src/guest/answers/answer-options.js';
import { preseedFile } from '../../../src/guest/answers/preseed.js';
import {
  DI12_INITRD,
  hasDi12Initrd,
  mergeQuestions,
  parseCapture,
  questionsInInitrd,
  type DiQuestions,
} from '../../helpers/d-i-questions.js';
import { repoPath } from '../../helpers/paths.js';

/** Components whose critical questions the install path never reaches, and why. */
const OFF_PATH_COMPONENTS: Record<string, string> = {
  'save-logs': 'a main-menu item ("Save debug logs"), never run unattended',
  'di-utils-reboot': 'a main-menu item ("Abort the installation")',
  'di-utils-shell': 'a main-menu item ("Execute a shell")',
  'cdebconf-priority': 'a main-menu item ("Change debconf priority")',
  'partman-iscsi': 'iSCSI targets: not offered by partman-auto on a local disk',
  'partman-md': 'software RAID: partman-auto/method is regular',
  'partman-auto-raid': 'software RAID recipes: partman-auto/method is regular',
  'partman-efi': 'EFI system partitions: the installer VM boots by BIOS (direct kernel boot)',
  'partman-cros': 'ChromeOS kernel partitions: not on a PC',
  'depthcharge-tools-installer': 'ChromeOS (depthcharge) boards only',
  'partman-btrfs': 'btrfs: the recipe makes ext4',
  'partman-jfs': 'JFS: the recipe makes ext4',
  'partman-xfs': 'XFS: the recipe makes ext4',
  'network-preseed':
    'preseed/url: asked only when network preseeding is chosen (we preseed from the initrd)',
  'preseed-common': 'preseed/$error: a failed preseed file',
};

/** Single questions off the path: failures, manual partitioning, debugging aids. */
const OFF_PATH_QUESTIONS: Record<string, string> = {
  'hw-detect/load_media': 'a driver missing from the initrd: asks for removable media',
  'debian-installer/shell-plugin': 'the shell menu item',
  'debconf/priority': 'the change-priority menu item',
  'di-utils-reboot/really_reboot': 'the abort menu item',
  'preseed/url': 'network preseeding only',
  'partman/show_free_chs': 'debug display (partman/alignment=cylinder only)',
  'partman/show_partition_chs': 'debug display',
  'clock-setup/hwclock-wait': 'the hardware clock did not answer',
  'apt-setup/no_mirror': 'the mirror could not be reached',
  'apt-setup/mirror/error': 'the mirror could not be reached',
  'apt-setup/local/key-error': 'local repositories (apt-setup/local*) only',
  'partman-target/mount_failed': 'a failure',
  'partman-basicfilesystems/check_failed': 'a failure',
  'partman-basicfilesystems/no_mount_point':
    'a file system without mount point: the recipe mounts /',
  'partman-basicfilesystems/no_swap': 'answered (false) in the preseed when there is no swap',
  'partman-basicfilesystems/boot_not_ext2': 'a separate /boot: the recipe has none',
  'partman-basicfilesystems/boot_not_first_partition': 'a separate /boot: the recipe has none',
  'partman-ext3/boot_not_ext2_or_ext3': 'a separate /boot: the recipe has none',
  'partman-ext3/boot_not_bootable':
    'warning for a non-bootable / with $bootable{ } set in the recipe',
  'partman-ext3/bad_alignment': 'ext4 on a misaligned partition: partman-auto aligns',
  'partman/boot_not_first_partition': 'a separate /boot: the recipe has none',
  'partman-basicmethods/method_only': 'a partition with a method but no file system (manual)',
  'partman-auto-lvm/no_boot': 'LVM recipes only',
  'mdcfg/nomd': 'software RAID only',
};
// Manual partitioning (the partition editor) is never opened: partman-auto with
// partman/choose_partition finish.
const MANUAL_PARTITIONING = /^partman-(partitioning|basicfilesystems)\//;
const MANUAL_EXCEPT = new Set(['partman-partitioning/confirm_write_new_label']);

/**
 * Questions asked through a shell variable, resolved by reading the script at the given
 * file; null when the variable only ever names an error or a question off the path.
 */
const VARIABLE_TEMPLATES: Record<string, readonly string[] | null> = {
  'usr/bin/localechooser $tpl_languagelist': ['localechooser/languagelist'],
  'lib/partman/lib/commit.sh $fulltemplate': ['partman/confirm', 'partman/confirm_nooverwrite'],
  'lib/partman/lib/commit.sh $template/confirm_nochanges': ['partman/confirm_nochanges'],
  'lib/partman/lib/commit.sh $template': null, // commit_changes: a commit.d script failed
  'usr/lib/base-installer/library.sh $1': null, // exit_error: base-installer's errors
  'DEBIAN/postinst $1': null, // depthcharge-tools-installer's errors (off the path anyway)
  'DEBIAN/postinst $template': ['nobootloader/confirmation_common'],
  'usr/share/grub-installer/functions.sh $template': null, // grub-installer's die(): errors
  'lowmem_debconf $template': null, // low-memory warnings
  'ethdetect $question': null, // no network card found
  'lib/partman/lib/md-base.sh $question': null, // software RAID
  'usr/lib/debian-installer/retriever/media-retriever $T': null, // retrieval errors
  'usr/lib/debian-installer/retriever/net-retriever $T': null, // retrieval errors
  'lib/partman/check.d/05nomountpoint_jfs $T': null, // no_mount_point (see above)
  'lib/partman/check.d/09nomountpoint_btrfs $T': null,
  'lib/partman/check.d/09nomountpoint_ext3 $T': null,
  'lib/partman/check.d/09nomountpoint_xfs $T': null,
  'lib/partman/commit.d/50format_btrfs $T': null, // create_failed: a failure
  'lib/partman/commit.d/50format_ext3 $T': null,
  'lib/partman/commit.d/50format_jfs $T': null,
  'lib/partman/commit.d/50format_xfs $T': null,
  'bin/select_mountoptions $tpl': null, // the partition editor
  'lib/partman/active_partition/45basicfilesystems/do_option $tpl': null, // the partition editor
  'lib/preseed/preseed.sh preseed/$error': null, // a broken preseed file
};

/**
 * Questions asked at a priority held in a variable (critical on the path) or by C programs
 * (whose priorities `db_input` records cannot show): localechooser's location questions
 * are critical when the country was not preseeded (localechooser, `*_prio=critical`);
 * choose-mirror (C) asks the country and, for a manual mirror, host and directory.
 */
const ALSO_ASKED = [
  'localechooser/shortlist',
  'localechooser/countrylist',
  'mirror/country',
  'mirror/http/hostname',
  'mirror/http/directory',
  'mirror/http/proxy',
] as const;

type Preseed = ReadonlyMap<string, string>;

/**
 * When a question is answered although not preseeded by name (or only preseeded when its
 * condition holds), read from the installer's scripts.
 */
const ANSWERED_WHEN: Record<string, (p: Preseed) => boolean> = {
  // localechooser: the shortlist/country list take "seen" from debian-installer/country.
  'localechooser/shortlist': (p) => p.has('debian-installer/country'),
  'localechooser/countrylist': (p) => p.has('debian-installer/country'),
  'localechooser/languagelist': (p) =>
    p.has('debian-installer/locale') || p.has('debian-installer/language'),
  // user-setup-ask: root's password is asked unless root login is off, or the crypted
  // hash is preseeded and is not exactly "!" (a hash of "!" is treated as "not set").
  'passwd/root-password': rootPasswordSettled,
  'passwd/root-password-again': rootPasswordSettled,
  // user-setup-ask: a user is asked for when make-user is true (forced when root-login is false).
  'passwd/user-fullname': noUserAsked,
  'passwd/username': noUserAsked,
  'passwd/user-password': noUserAsked,
  'passwd/user-password-again': noUserAsked,
  // grub-installer is not run when skipped (the kernel is booted directly).
  'grub-installer/bootdev': (p) => p.get('grub-installer/skip') === 'true',
  // choose-mirror: with mirror/country manual, host and directory are asked.
  'mirror/country': (p) => p.has('mirror/country'),
  'mirror/http/hostname': (p) =>
    p.get('mirror/country') !== 'manual' || p.has('mirror/http/hostname'),
  'mirror/http/directory': (p) =>
    p.get('mirror/country') !== 'manual' || (p.get('mirror/http/directory') ?? '') !== '',
};

function rootPasswordSettled(p: Preseed): boolean {
  if (p.get('passwd/root-login') === 'false') return true;
  const crypted = p.get('passwd/root-password-crypted') ?? '';
  return crypted !== '' && crypted !== '!';
}
function noUserAsked(p: Preseed): boolean {
  return p.get('passwd/root-login') !== 'false' && p.get('passwd/make-user') === 'false';
}

/** `owner question type value` lines -> question -> value. */
export function parsePreseed(text: string): Preseed {
  const answers = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\S+\s+(\S+)\s+\S+(?:\s(.*))?$/.exec(line);
    if (m?.[1] && !line.startsWith('#')) answers.set(m[1], (m[2] ?? '').trim());
  }
  return answers;
}

/** Critical questions on the path as "question (component file:line)"; unclassified ones too. */
function criticalQuestions(q: DiQuestions): { asked: Map<string, string>; unclassified: string[] } {
  const asked = new Map<string, string>();
  const unclassified: string[] = [];
  for (const input of q.inputs) {
    // In the initrd, a udeb's maintainer scripts sit in var/lib/dpkg/info/<udeb>.*.
    const owner = /^var\/lib\/dpkg\/info\/([^.]+)\./.exec(input.where)?.[1] ?? input.component;
    if (input.priority !== 'critical' || owner in OFF_PATH_COMPONENTS) continue;
    const at = `${input.component} ${input.where}`;
    let names: readonly string[] | null = [input.template];
    if (input.template.includes('$')) {
      const file = input.where.replace(/:\d+$/, '');
      const key = Object.keys(VARIABLE_TEMPLATES).find((k) => {
        const [path, variable] = k.split(' ');
        return variable === input.template && path !== undefined && `/${file}`.endsWith(`/${path}`);
      });
      if (key === undefined) {
        unclassified.push(`${input.template} (${at}): a variable template not resolved`);
        continue;
      }
      names = VARIABLE_TEMPLATES[key] ?? null;
    }
    for (const name of names ?? []) {
      const type = q.types.get(name);
      if (type === 'error' || type === 'title' || type === 'text') continue;
      if (name in OFF_PATH_QUESTIONS) continue;
      if (MANUAL_PARTITIONING.test(name) && !MANUAL_EXCEPT.has(name)) continue;
      if (!asked.has(name)) asked.set(name, at);
    }
  }
  for (const name of ALSO_ASKED) asked.set(name, 'localechooser/choose-mirror');
  return { asked, unclassified };
}

/** The questions the preseed leaves open, each with where the installer asks it. */
export function openQuestions(q: DiQuestions, preseed: string): string[] {
  const answers = parsePreseed(preseed);
  const { asked, unclassified } = criticalQuestions(q);
  const open = [...asked]
    .filter(([name]) => {
      const rule = ANSWERED_WHEN[name];
      return rule ? !rule(answers) : !answers.has(name);
    })
    .map(([name, at]) => `${name} (${at})`);
  return [...unclassified, ...open].sort();
}

const params: IsoInstallParams = {
  source: 'iso',
  arch: 'x86_64',
  sha256: null,
  url: null,
  answers: 'preseed',
  locale: 'de_DE.UTF-8',
  timezone: 'Europe/Berlin',
  swapBytes: 0,
  kernelArgs: [],
  memoryBytes: 2 ** 30,
  cpus: 1,
  accel: 'auto',
  timeoutMs: 60_000,
};
const mirror = { protocol: 'http', hostname: 'mirror.invalid', directory: '/debian' } as const;
const captured = (release: string): DiQuestions =>
  parseCapture(
    readFileSync(repoPath('test', 'fixtures', 'answers', 'd-i', `${release}.txt`), 'utf8'),
  );

describe('the generated preseed answers every critical question of the real installer', () => {
  test('Debian 12: the package netboot initrd (live) and the mirror components', () => {
    // scripts/install-host-tools installs the package; CI always has it.
    expect(
      hasDi12Initrd()
        ? ''
        : `missing ${DI12_INITRD}: apt-get install debian-installer-12-netboot-amd64`,
    ).toBe('');
    const q = mergeQuestions(questionsInInitrd(DI12_INITRD), captured('12'));
    expect(q.types.get('keyboard-configuration/xkb-keymap')).toBe('select');
    expect(openQuestions(q, preseedFile(answerOptions(params, mirror)))).toEqual([]);
  });
  test('Debian 13: the captured initrd and components (user-setup, partman, apt-setup)', () => {
    const q = captured('13');
    for (const c of [
      'initrd',
      'user-setup-udeb',
      'partman-auto',
      'apt-setup-udeb',
      'localechooser',
    ])
      expect(q.components).toContain(c);
    expect(openQuestions(q, preseedFile(answerOptions(params, mirror)))).toEqual([]);
    expect(openQuestions(q, preseedFile(answerOptions(params, null)))).toEqual([]);
  });
  test('the check catches what stopped the real installer', () => {
    const q = captured('13');
    const good = preseedFile(answerOptions(params, mirror));
    const without = (name: string): string =>
      good
        .split('\n')
        .filter((l) => !l.includes(` ${name} `))
        .join('\n');
    expect(openQuestions(q, without('debian-installer/country'))).toEqual([
      'localechooser/countrylist (localechooser/choose-mirror)',
      'localechooser/shortlist (localechooser/choose-mirror)',
    ]);
    const bang = good.replace(
      'root-password-crypted password !*',
      'root-password-crypted password !',
    );
    expect(openQuestions(q, bang)).toEqual([
      expect.stringMatching(
        /^passwd\/root-password \(user-setup-udeb usr\/bin\/user-setup-ask:\d+\)$/,
      ),
      expect.stringMatching(/^passwd\/root-password-again \(user-setup-udeb /),
    ]);
  });
});
