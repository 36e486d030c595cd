// Customize as root on images with links planted where the host writes (the staging dir,
// policy-rc.d, resolv.conf, mount points): an image from an installer ISO is untrusted, and
// nothing may be written, mounted or deleted on the host through a link inside it.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { mountsBelow } from '../../../src/tools/mount.js';
import { customizeDisk } from '../../helpers/step-harness.js';
import { makeTinyTree, tinyRootDisk } from '../../helpers/tiny-root.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

const isRoot = process.getuid?.() === 0;
const maybe = isRoot ? describe : describe.skip;
const dir = mkdtempSync(join(tmpdir(), 'emi-guest-links-'));
/** The "host" files a hostile image points at. */
const victim = join(dir, 'victim');
mkdirSync(join(victim, 'etc'), { recursive: true });
mkdirSync(join(victim, 'sbin'), { recursive: true });
writeFileSync(join(victim, 'etc', 'shadow'), 'root:secret\n');

function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(victim);
  return out;
}

async function customizeImage(name: string, plant: (tree: string) => void) {
  const base = join(dir, name);
  mkdirSync(base);
  const tree = join(base, 'tree');
  makeTinyTree(tree, plant);
  const disk = join(base, 'disk.raw');
  tinyRootDisk(tree, disk);
  return customizeDisk({
    dir: base,
    name,
    commands: ['cat /etc/resolv.conf >/root/dns'],
    disk,
    format: 'raw',
  });
}

maybe('customize never writes through links planted in the image', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const before = snapshot();
  const hostMounts = () => mountsBelow(readFileSync('/proc/self/mounts', 'utf8'), dir);

  test('/var/tmp a link to a host directory: refused before staging anything there', async () => {
    const { r } = await customizeImage('var-tmp', (tree) => {
      rmSync(join(tree, 'var', 'tmp'), { recursive: true });
      symlinkSync(join(victim, 'etc'), join(tree, 'var', 'tmp'));
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('unsafe-image');
    expect(describeStepFailure(r.error)).toContain("the image's /var/tmp is a symbolic link");
    expect(snapshot()).toEqual(before);
    expect(hostMounts()).toEqual([]);
  });

  test('/usr/sbin a link to a host directory: no policy-rc.d written there', async () => {
    const { r } = await customizeImage('usr-sbin', (tree) => {
      rmSync(join(tree, 'usr', 'sbin'), { recursive: true });
      symlinkSync(join(victim, 'sbin'), join(tree, 'usr', 'sbin'));
    });
    expect(r.ok ? '' : describeStepFailure(r.error)).toContain(
      "the image's /usr/sbin is a symbolic link",
    );
    expect(snapshot()).toEqual(before);
  });

  test('/etc a link to a host directory, and dev a link to a host directory: refused, nothing mounted there', async () => {
    const { r } = await customizeImage('etc', (tree) => {
      rmSync(join(tree, 'etc'), { recursive: true });
      symlinkSync(join(victim, 'etc'), join(tree, 'etc'));
      rmSync(join(tree, 'dev'), { recursive: true });
      symlinkSync(join(victim, 'sbin'), join(tree, 'dev'));
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('unsafe-image');
    expect(snapshot()).toEqual(before);
    expect(hostMounts()).toEqual([]);
  });

  test('/etc/resolv.conf a link to a host file (a legitimate stub link, or a hostile one): moved aside as a link, the host file untouched', async () => {
    const { r, log } = await customizeImage('resolv', (tree) => {
      symlinkSync(join(victim, 'etc', 'shadow'), join(tree, 'etc', 'resolv.conf'));
    });
    if (!r.ok) console.log(log.join('\n'));
    expect(r.ok).toBe(true);
    expect(snapshot()).toEqual(before);
    expect(hostMounts()).toEqual([]);
  });
});
