// The debian-minimal recipe built for real through the build steps: debootstrap,
// customize (chroot as root, and libguestfs), extraction; every customisation checked
// inside the produced file-system image with debugfs, the kernel and initrd by `file`,
// the root file system by e2fsck.
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type {
  BuiltinKind,
  BuiltinStepKind,
  BuiltinStepSpec,
  CustomizeParams,
} from '../../../src/plan/step-params.js';
import { createDisk } from '../../../src/steps/create-disk.js';
import { customize } from '../../../src/steps/customize.js';
import { extractKernel } from '../../../src/steps/extract-kernel.js';
import { extractRamdisk } from '../../../src/steps/extract-ramdisk.js';
import { extractRootfs } from '../../../src/steps/extract-rootfs.js';
import { installOs } from '../../../src/steps/install-os.js';
import {
  catFile,
  debugfs,
  debugfsErr,
  dpkgInstalled,
  fileType,
  modeOf,
} from '../../helpers/debugfs.js';
import { repoPath } from '../../helpers/paths.js';
import { bootUntil } from '../../helpers/boot-smoke.js';
import {
  recipeSteps,
  StepHarness,
  stepOf,
  tempWorkDir,
  type Finished,
} from '../../helpers/step-harness.js';

const isRoot = process.getuid?.() === 0;
const maybe = isRoot ? describe : describe.skip;
const MINUTES = 60_000;

function must<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`step failed: ${JSON.stringify(r.error, null, 2)}`);
  return r.value;
}

maybe('debian-minimal, built for real', () => {
  let work: string;
  let h: StepHarness;
  let specs: Map<string, BuiltinStepSpec>;
  let rootfs: string;
  let kernelPath: string;
  let initrdPath: string;
  const timings: Record<string, number> = {};

  const step = async <K extends BuiltinKind>(
    id: K,
    kind: BuiltinStepKind<K>,
  ): Promise<Finished> => {
    const started = Date.now();
    const r = await h.run(kind, stepOf(specs, id, id));
    timings[id] = Date.now() - started;
    if (!r.ok) console.log(h.logs.get(id)?.slice(-40).join('\n'));
    return must(r);
  };

  beforeAll(async () => {
    work = await tempWorkDir('debian-minimal');
    h = new StepHarness(work);
    specs = await recipeSteps(repoPath('recipes', 'debian-minimal.yaml'));
  });
  afterAll(async () => {
    console.log(`debian-minimal step times (ms): ${JSON.stringify(timings)}`);
    await rm(work, { recursive: true, force: true });
  });

  test(
    'create-disk, install-os (debootstrap), customize, extract',
    async () => {
      await step('create-disk', createDisk);
      const installed = await step('install-os', installOs);
      expect(installed.artifacts.disk).toBe('disk.qcow2');
      const info = JSON.parse(
        execFileSync(
          'qemu-img',
          ['info', '--output=json', '-U', join(installed.dir, 'disk.qcow2')],
          { encoding: 'utf8' },
        ),
      );
      // Named relative to the overlay's directory, so the chain can move (another runner).
      expect(info['backing-filename']).toBe('../create-disk/disk.qcow2');
      expect(resolve(info['full-backing-filename'] as string)).toBe(
        join(work, 'steps', 'create-disk', 'disk.qcow2'),
      );
      const before = statSync(join(installed.dir, 'disk.qcow2')).mtimeMs;
      const custom = await step('customize', customize);
      expect(custom.values.method).toBe('chroot');
      // customize writes only its own overlay.
      expect(statSync(join(installed.dir, 'disk.qcow2')).mtimeMs).toBe(before);
      const kernel = await step('extract-kernel', extractKernel);
      const ramdisk = await step('extract-ramdisk', extractRamdisk);
      const root = await step('extract-rootfs', extractRootfs);
      rootfs = join(root.dir, String(root.artifacts.rootfs));
      kernelPath = join(kernel.dir, String(kernel.artifacts.kernel));
      initrdPath = join(ramdisk.dir, String(ramdisk.artifacts.ramdisk));

      expect(kernel.values.kernelVersion).toMatch(/cloud-amd64$/);
      expect(ramdisk.values.kernelVersion).toBe(kernel.values.kernelVersion);
      expect(fileType(join(kernel.dir, String(kernel.artifacts.kernel)))).toMatch(
        /Linux kernel x86 boot executable/,
      );
      expect(fileType(join(ramdisk.dir, String(ramdisk.artifacts.ramdisk)))).toMatch(
        /gzip|Zstandard|cpio/,
      );
      expect(statSync(rootfs).size).toBe(2 * 2 ** 30);
      expect(spawnSync('e2fsck', ['-fn', rootfs]).status).toBe(0);
    },
    10 * MINUTES,
  );

  test('the package, the user, rc.local and the udev rule, inside the image', () => {
    expect(dpkgInstalled(rootfs, 'less')).toBe(true);
    expect(dpkgInstalled(rootfs, 'sudo')).toBe(true);
    expect(dpkgInstalled(rootfs, 'linux-image-cloud-amd64')).toBe(true);
    expect(catFile(rootfs, '/etc/passwd')).toMatch(
      /^debian:x:\d+:\d+::\/home\/debian:\/bin\/bash$/m,
    );
    expect(catFile(rootfs, '/etc/shadow')).toMatch(/^debian:!/m);
    expect(catFile(rootfs, '/etc/group')).toMatch(/^sudo:x:\d+:.*\bdebian\b/m);
    expect(catFile(rootfs, '/etc/sudoers.d/debian')).toBe('debian ALL=(ALL) NOPASSWD:ALL\n');
    expect(modeOf(rootfs, '/etc/sudoers.d/debian')).toBe(0o440);

    const rc = catFile(rootfs, '/etc/rc.local');
    expect(modeOf(rootfs, '/etc/rc.local')).toBe(0o755);
    expect(rc).toContain(
      'key_url=http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key',
    );
    expect(rc).toContain('key_user=debian');
    expect(rc).toContain('authorized_keys');
    expect(debugfs(rootfs, 'ls -l /etc/systemd/system/multi-user.target.wants')).toContain(
      'rc-local.service',
    );
    expect(catFile(rootfs, '/etc/systemd/system/rc-local.service.d/emi-recipe.conf')).toContain(
      'After=network-online.target',
    );

    expect(debugfsErr(rootfs, 'stat /etc/udev/rules.d/70-persistent-net.rules')).toMatch(
      /File not found/,
    );
    // Boots as root=/dev/vda with any NIC name, without the build's host keys.
    expect(catFile(rootfs, '/etc/fstab')).toMatch(/^LABEL=cloudimg-rootfs\t\/\text4/m);
    expect(catFile(rootfs, '/etc/network/interfaces')).toContain('auto /e*/1=nic');
    expect(debugfs(rootfs, 'ls /etc/ssh')).not.toMatch(/ssh_host_\w+_key/);
    expect(debugfs(rootfs, 'ls -l /etc/systemd/system/multi-user.target.wants')).toContain(
      'emi-ssh-host-keys.service',
    );
    expect(catFile(rootfs, '/etc/machine-id')).toBe('');
  });

  test(
    'the extracted kernel, initrd and root file system boot as root=/dev/vda into multi-user',
    async () => {
      // Until sshd runs: it needs the host keys the first-boot unit makes. (A login prompt
      // would come only after rc.local gave up on the absent metadata service, 60 s later.)
      const r = await bootUntil({
        kernel: kernelPath,
        initrd: initrdPath,
        rootfs,
        until: /Started .*ssh\.service/,
        timeoutMs: 4 * MINUTES,
      });
      timings['boot-to-sshd'] = r.ms;
      if (!r.matched) console.log(r.console.split('\n').slice(-60).join('\n'));
      expect(r.matched).toBe(true);
      expect(r.console).not.toMatch(/emergency mode|Give root password|Failed to mount/);
      expect(r.console).toMatch(/Finished .*SSH host keys \(emi-recipe\)/);
      expect(r.console).toMatch(/Starting .*rc\.local Compatibility/);
      expect(r.console).toMatch(/Finished .*networking\.service/);
    },
    5 * MINUTES,
  );

  test(
    'customize with libguestfs (no root needed) gives the same changes',
    async () => {
      const spec = stepOf(specs, 'customize', 'customize');
      // Packages would need the appliance's network and minutes under TCG: one user, one file, rc.local, remove.
      const params: CustomizeParams = {
        ...spec.params,
        packages: [],
        users: [{ ...spec.params.users[0]!, sudo: false }],
        files: [
          {
            path: '/etc/motd',
            content: 'built by emi-recipe\n',
            mode: 0o600,
            owner: 'debian:debian',
          },
        ],
      };
      const previous = process.env.EMI_RECIPE_CUSTOMIZE;
      process.env.EMI_RECIPE_CUSTOMIZE = 'guestfs';
      try {
        const started = Date.now();
        const r = await h.run(customize, { ...spec, params });
        timings['customize-guestfs'] = Date.now() - started;
        if (!r.ok) console.log(h.logs.get('customize')?.slice(-60).join('\n'));
        expect(must(r).values.method).toBe('guestfs');
      } finally {
        if (previous === undefined) delete process.env.EMI_RECIPE_CUSTOMIZE;
        else process.env.EMI_RECIPE_CUSTOMIZE = previous;
      }
      const root = must(
        await h.run(extractRootfs, stepOf(specs, 'extract-rootfs', 'extract-rootfs')),
      );
      const image = join(root.dir, String(root.artifacts.rootfs));
      expect(catFile(image, '/etc/passwd')).toMatch(/^debian:/m);
      expect(catFile(image, '/etc/motd')).toBe('built by emi-recipe\n');
      expect(modeOf(image, '/etc/motd')).toBe(0o600);
      expect(modeOf(image, '/etc/rc.local')).toBe(0o755);
      expect(debugfsErr(image, 'stat /etc/udev/rules.d/70-persistent-net.rules')).toMatch(
        /File not found/,
      );
      expect(spawnSync('e2fsck', ['-fn', image]).status).toBe(0);
    },
    10 * MINUTES,
  );
});
