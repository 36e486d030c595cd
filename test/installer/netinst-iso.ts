// Builds the real-installer test's ISO with a netinst layout (/install.amd/vmlinuz and
// initrd.gz; not bootable, emi-recipe boots the kernel directly) from Debian 13's netboot
// kernel and initrd, plus an initrd overlay that works around this machine's mirror only:
// the kernel modules the installer needs (ext4, virtio_blk, …) and e2fsprogs, taken from
// ordinary .debs because the mirror lacks the matching udebs, and a startup hook that
// appends the harness's preseed lines (mirror front, unsigned archive, no module udebs,
// no security/updates repositories) to the /preseed.cfg emi-recipe injects.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cpioNewc, initrdPadding, type CpioEntry } from '../../src/guest/cpio-newc.js';
import { buildIsoArgs } from '../../src/tools/xorriso.js';
import { readCpio } from '../helpers/d-i-questions.js';
import { findPackage, type DebianArchive, type Stanza } from './debian-archive.js';

/** Modules the install needs that the netboot initrd lacks (their dependencies follow). */
const MODULES = [
  'ext4',
  'virtio_blk',
  'virtio_scsi',
  'sd_mod',
  'crc32c_generic',
  // partman-md (standard priority) stops with mdcfg/nomd at critical without MD support.
  'md_mod',
  'raid0',
  'raid1',
  'raid10',
  'raid456',
  'linear',
  'dm_mod',
];
/** e2fsprogs and its libraries, from .debs: partman formats ext4 with mkfs.ext4. */
const E2FS_DEBS = [
  'e2fsprogs',
  'libext2fs2t64',
  'libcom-err2',
  'libss2',
  'libblkid1',
  'libuuid1',
  'libmount1',
];
/** Marked installed, so that anna does not fetch them (the mirror has not got them). */
const FAKE_INSTALLED = ['e2fsprogs-udeb', 'xfsprogs-udeb', 'ntfs-3g-udeb', 'libmount1-udeb'];

export interface Netboot {
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelVersion: string;
  readonly suite: string;
}

/** Debian 13's netboot kernel and initrd, from the package in the mirror's pool. */
export async function debian13Netboot(archive: DebianArchive): Promise<Netboot> {
  const all = await archive.packages('trixie', 'main/binary-all');
  const dir = await archive.unpack(findPackage(all, 'debian-installer-13-netboot-amd64'));
  const images = join(dir, 'usr/lib/debian-installer/images/13/amd64/text/debian-installer/amd64');
  const initrd = join(images, 'initrd.gz');
  const modules = [...readCpio(readFileSync(initrd)).keys()]
    .map((f) => /^usr\/lib\/modules\/([^/]+)\//.exec(f)?.[1])
    .find((v) => v !== undefined);
  if (!modules) throw new Error('no usr/lib/modules/<version> in the netboot initrd');
  return { kernel: join(images, 'linux'), initrd, kernelVersion: modules, suite: 'trixie' };
}

function filesUnder(root: string, dir: string): CpioEntry[] {
  const out: CpioEntry[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      const rel = relative(root, path);
      if (st.isDirectory()) {
        out.push({ name: rel, mode: 0o040755 });
        walk(path);
      } else out.push({ name: rel, mode: 0o100000 | (st.mode & 0o7777), data: readFileSync(path) });
    }
  };
  if (existsSync(join(root, dir))) walk(join(root, dir));
  return out;
}

function parents(path: string): CpioEntry[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => ({ name: parts.slice(0, i + 1).join('/'), mode: 0o040755 }));
}

/** The overlay cpio (gzip) for the netboot initrd. */
export async function harnessOverlay(
  archive: DebianArchive,
  netboot: Netboot,
  harnessPreseed: string,
  work: string,
): Promise<Uint8Array> {
  const amd64 = await archive.packages(netboot.suite, 'main/binary-amd64');
  const v = netboot.kernelVersion;
  const image =
    amd64.find((s) => s.get('Package') === `linux-image-${v}-unsigned`) ??
    findPackage(amd64, `linux-image-${v}`);
  const kroot = await archive.unpack(image);
  // depmod over the whole module tree, then the closure of MODULES from modules.dep.
  const tree = join(work, 'modtree');
  mkdirSync(join(tree, 'usr/lib/modules'), { recursive: true });
  execFileSync('cp', ['-a', join(kroot, 'usr/lib/modules', v), join(tree, 'usr/lib/modules')]);
  execFileSync('depmod', ['-b', join(tree, 'usr'), v]);
  const modDir = join(tree, 'usr/lib/modules', v);
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod) deps.set(mod, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = (m: string): string | undefined =>
    [...deps.keys()].find(
      (k) =>
        k
          .split('/')
          .pop()
          ?.replace(/\.ko(\.xz|\.zst)?$/, '')
          .replace(/-/g, '_') === m,
    );
  const wanted = new Set<string>();
  for (const m of MODULES) {
    const k = byName(m);
    if (!k) continue; // built into the kernel
    for (const d of [k, ...(deps.get(k) ?? [])]) wanted.add(d);
  }
  const entries: CpioEntry[] = [];
  const add = (name: string, data: Uint8Array, mode = 0o100644): void => {
    entries.push(...parents(name), { name, mode, data });
  };
  for (const k of wanted) add(`usr/lib/modules/${v}/${k}`, readFileSync(join(modDir, k)));
  for (const f of readdirSync(modDir).filter((n) => n.startsWith('modules.')))
    add(`usr/lib/modules/${v}/${f}`, readFileSync(join(modDir, f)));

  for (const name of E2FS_DEBS) {
    const root = await archive.unpack(findPackage(amd64, name));
    for (const dir of ['usr/sbin', 'usr/lib/x86_64-linux-gnu', 'etc'])
      entries.push(...parents(`${dir}/x`), ...filesUnder(root, dir));
  }
  // anna must not fetch what the mirror lacks: those udebs are marked installed.
  const status = readCpio(readFileSync(netboot.initrd)).get('var/lib/dpkg/status');
  const fake = FAKE_INSTALLED.map(
    (p) =>
      `Package: ${p}\nStatus: install ok installed\nVersion: 99-emi-test\nArchitecture: amd64\n`,
  );
  add('var/lib/dpkg/status', Buffer.from(`${status?.toString('utf8') ?? ''}\n${fake.join('\n')}`));
  add('emi-test-harness.cfg', Buffer.from(harnessPreseed));
  add(
    'usr/lib/debian-installer-startup.d/S29emi-test-harness',
    Buffer.from(
      [
        '#!/bin/sh',
        '# emi-recipe real-installer test: harness preseed lines, and (the front serves an',
        "# unsigned Release) apt in /target allowed insecure repositories: base-installer's",
        '# 00AllowUnauthenticated covers installs but not `apt-get update`.',
        'cat /emi-test-harness.cfg >> /preseed.cfg',
        'conf=\'Acquire::AllowInsecureRepositories "true"; APT::Get::AllowUnauthenticated "true";\'',
        '(while :; do [ -d /target/etc/apt/apt.conf.d ] && echo "$conf" > /target/etc/apt/apt.conf.d/00emi-test-insecure; sleep 2; done) </dev/null >/dev/null 2>&1 &',
        "# d-i's own log, copied onto the target disk while it is mounted, so that a failed",
        '# run leaves it in install-os.partial/disk.qcow2 (read it with debugfs).',
        '(while :; do [ -d /target/var/log ] && cp /var/log/syslog /target/var/log/emi-test-d-i-syslog; sleep 15; done) </dev/null >/dev/null 2>&1 &',
        '',
      ].join('\n'),
    ),
    0o100755,
  );
  const seen = new Set<string>();
  const unique = entries.filter((e) => {
    if (seen.has(e.name) && (e.mode & 0o170000) === 0o040000) return false;
    seen.add(e.name);
    return true;
  });
  return gzipSync(cpioNewc(unique));
}

/** The ISO: /install.amd/vmlinuz and /install.amd/initrd.gz (netboot initrd + overlay). */
export function buildNetinstIso(o: {
  netboot: Netboot;
  overlay: Uint8Array;
  out: string;
  work: string;
}): void {
  const tree = join(o.work, 'iso-tree');
  mkdirSync(join(tree, 'install.amd'), { recursive: true });
  mkdirSync(join(tree, '.disk'), { recursive: true });
  writeFileSync(join(tree, 'install.amd', 'vmlinuz'), readFileSync(o.netboot.kernel));
  const base = readFileSync(o.netboot.initrd);
  writeFileSync(
    join(tree, 'install.amd', 'initrd.gz'),
    Buffer.concat([base, initrdPadding(base.length), o.overlay]),
  );
  writeFileSync(
    join(tree, '.disk', 'info'),
    'Debian GNU/Linux 13 (netboot kernel and initrd, emi-recipe test)\n',
  );
  execFileSync('xorriso', buildIsoArgs({ dir: tree, out: o.out, volumeId: 'Debian 13 amd64 n' }), {
    stdio: 'ignore',
  });
}

export type { Stanza };
