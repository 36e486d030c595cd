// An hvm image through the ISO path, with the test-built installer in real QEMU under TCG:
// the plan's customize installs grub-pc (here the installer's system has an apt-get
// stand-in that unpacks the host's grub-pc-bin), make-bootable puts the image's own GRUB
// on the installer's MBR disk, extract-disk makes the raw image, and the boot test boots
// it through SeaBIOS (no -kernel). The test system is busybox without sshd or a network
// service, so the boot test cannot log in: it stops at 'guest-stopped', and the console
// it keeps proves the rest: SeaBIOS ran the MBR's GRUB, which booted the image's kernel
// with make-bootable's command line, and the root=UUID it names is the installed system.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { BuiltinKind, BuiltinStepKind } from '../../../src/plan/step-params.js';
import { bootTest } from '../../../src/steps/boot-test.js';
import { createDisk } from '../../../src/steps/create-disk.js';
import { customize } from '../../../src/steps/customize.js';
import { extractDisk } from '../../../src/steps/extract-disk.js';
import { installOs } from '../../../src/steps/install-os.js';
import { makeBootable } from '../../../src/steps/make-bootable.js';
import { catFile } from '../../helpers/debugfs.js';
import { recipeSteps, StepHarness, stepOf, tempWorkDir } from '../../helpers/step-harness.js';
import {
  buildTestInstallerIso,
  HOST_GRUB_MODULES,
  TEST_RELEASE,
} from '../../helpers/test-installer.js';

const MINUTES = 60_000;
const isRoot = process.getuid?.() === 0;
// customize and make-bootable need root (as in iso-install.test.ts, skipped without it).

const recipe = (sha256: string): string => `name: iso-hvm
arch: x86_64
disk:
  size: 256M
  format: qcow2
install:
  iso:
    path: ./installer.iso
    sha256: "${sha256}"
  answers: preseed
  vm: { memory: 512M, cpus: 1, accel: tcg, timeout: 4m }
image: { virtualization: hvm }
# The boot test needs a metadata-key user; this system cannot run rc.local (no curl, no sshd).
customize: { rcLocal: { metadataSshKey: { user: root } } }
publish:
  cloud: local
test: { boot: true, accel: tcg, memory: 512M, cpus: 1, timeout: 3m }
`;

(isRoot ? describe : describe.skip)('hvm image from an ISO install (test installer, TCG)', () => {
  let work: string;

  beforeAll(async () => {
    work = await tempWorkDir('iso-hvm');
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  test(
    'grub-pc from customize, GRUB on the MBR, the disk boots through SeaBIOS to its root file system',
    async () => {
      // The test system's GRUB is the host's (scripts/install-host-tools installs it).
      if (!existsSync(join(HOST_GRUB_MODULES, 'boot.img')))
        throw new Error(
          `no ${HOST_GRUB_MODULES}/boot.img on this host: install grub-pc-bin (scripts/install-host-tools)`,
        );
      const dir = join(work, 'build');
      mkdirSync(dir);
      const { version } = buildTestInstallerIso(join(dir, 'installer.iso'), dir, { hvm: true });
      const sha = createHash('sha256')
        .update(readFileSync(join(dir, 'installer.iso')))
        .digest('hex');
      writeFileSync(join(dir, 'recipe.yaml'), recipe(sha));
      const specs = await recipeSteps(join(dir, 'recipe.yaml'));
      // The plan asks for grub-pc: the recipe does not name it.
      expect(stepOf(specs, 'customize', 'customize').params.packages).toEqual(['grub-pc']);

      const h = new StepHarness(join(dir, 'work'), 'tcg');
      h.keepFailed = true;
      const run = async <K extends BuiltinKind>(id: K, kind: BuiltinStepKind<K>) => {
        const r = await h.run(kind, stepOf(specs, id, id));
        if (!r.ok)
          throw new Error(
            `${id}: ${JSON.stringify(r.error, null, 2)}\n${h.logs.get(id)?.join('\n')}`,
          );
        return r.value;
      };
      await run('create-disk', createDisk);
      await run('install-os', installOs);
      await run('customize', customize);
      const made = await run('make-bootable', makeBootable);
      expect(made.values).toMatchObject({ kernelVersion: version, partition: 'msdos1' });
      const disk = await run('extract-disk', extractDisk);
      const image = join(disk.dir, String(disk.artifacts.image));

      // customize asked the system's package manager for grub-pc (the stand-in's log, read
      // from the root partition at 1 MiB), and make-bootable left GRUB's files in the image.
      expect(readFileSync(join(dir, 'work', 'logs', 'customize.log'), 'utf8')).toContain(
        'installing packages: grub-pc',
      );
      const root = `${image}?offset=${2048 * 512}`;
      expect(catFile(root, '/var/log/emi-test-apt.log')).toMatch(
        /^apt-get install .* -- grub-pc$/m,
      );
      expect(catFile(root, '/boot/grub/grub.cfg')).toContain(
        `search --no-floppy --fs-uuid --set=root`,
      );
      expect(catFile(root, '/etc/default/grub.d/emi-recipe.cfg')).toContain('GRUB_TIMEOUT=0');
      // The MBR: GRUB's boot.img code, the installer's partition table kept.
      const mbr = readFileSync(image).subarray(0, 512);
      const bootImg = readFileSync(join(HOST_GRUB_MODULES, 'boot.img'));
      expect(mbr.subarray(0x68, 0x1b8).equals(bootImg.subarray(0x68, 0x1b8))).toBe(true);
      expect(mbr.subarray(0x1be, 0x1be + 16).some((b) => b !== 0)).toBe(true);
      expect([mbr[510], mbr[511]]).toEqual([0x55, 0xaa]);

      const started = Date.now();
      const booted = await h.run(bootTest, stepOf(specs, 'boot-test', 'boot-test'));
      console.log(`hvm boot through SeaBIOS under TCG: ${Date.now() - started} ms`);
      // No sshd in the test system: the guest powers itself off instead of accepting a login.
      expect(booted.ok).toBe(false);
      if (booted.ok) return;
      expect(booted.error.reason).toBe('guest-stopped');
      const failedDir = h.failedOutDirs.get('boot-test');
      expect(failedDir).toBeDefined();
      const consoleText = readFileSync(join(failedDir!, 'console.log'), 'utf8');
      const qemu = h.logs.get('boot-test')?.find((l) => l.startsWith('$ qemu-system-x86_64'));
      expect(qemu).not.toContain('-kernel');
      expect(qemu).toContain('iso-hvm.img,format=raw,if=virtio,snapshot=on');
      // GRUB from the image (its grub.cfg: make-bootable's command line) booted the kernel...
      const uuid = made.values.rootUuid as string;
      expect(consoleText).toContain(
        `emi-test-system: booted with: BOOT_IMAGE=/boot/vmlinuz-${version} root=UUID=${uuid} ro console=tty0 console=ttyS0,115200n8`,
      );
      // ...and the root it names is the installed (and customized) system on the disk.
      expect(consoleText).toMatch(
        new RegExp(
          `emi-test-system: root UUID=${uuid} is /dev/vda1: ${TEST_RELEASE.replace(/[()]/g, '\\$&')}`,
        ),
      );
    },
    12 * MINUTES,
  );
});
