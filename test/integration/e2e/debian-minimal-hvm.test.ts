// recipes/debian-minimal-hvm.yaml applied from nothing with the real tools, as a user runs
// it: debootstrap, customize (grub-pc from the image's packages), make-bootable (GRUB for
// BIOS), the whole disk as one raw image, booted through SeaBIOS (no -kernel) with the
// metadata key login, bundled and registered as ONE hvm emi in the embedded cloud: no eki
// or eri, DescribeImages and `emi-recipe images` say hvm and name no kernel.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { repoPath } from '../../helpers/paths.js';
import { runBuiltCli } from '../../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-e2e-hvm-'));
const recipe = join(dir, 'debian-minimal-hvm.yaml');
copyFileSync(repoPath('recipes', 'debian-minimal-hvm.yaml'), recipe);
const cli = (...args: string[]) => runBuiltCli(args, { cwd: dir, timeoutMs: 20 * 60_000 });
const work = join(dir, '.emi-recipe', 'debian-minimal-hvm');
const dataDir = join(dir, '.emi-recipe', 'local-cloud');
const ranSteps = (stdout: string) => [...stdout.matchAll(/✓ ([a-z-]+) \(/g)].map((m) => m[1]);

describe('debian-minimal-hvm, end to end', () => {
  // A 2 GiB disk, its raw image and the bundle: do not leave them in CI's /tmp.
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('from nothing: one hvm emi with no kernel, after the disk booted through SeaBIOS and accepted the metadata key', () => {
    const r = cli('apply', recipe, '--no-progress');
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(ranSteps(r.stdout).sort()).toEqual(
      [
        'create-disk',
        'install-os',
        'customize',
        'make-bootable',
        'extract-disk',
        'bundle-machine',
        'boot-test',
        'upload-machine',
        'register-machine',
      ].sort(),
    );
    const line = /Images: (emi-[0-9a-f]{8})\n/.exec(r.stdout);
    expect(line).not.toBeNull();
    const emi = line![1]!;

    // The registry: one image, hvm, no kernel or ramdisk.
    const listed = cli('images', '--json', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    const images = (JSON.parse(listed.stdout) as { images: Record<string, unknown>[] }).images;
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({
      imageId: emi,
      imageType: 'machine',
      state: 'available',
      virtualizationType: 'hvm',
      name: 'debian-minimal-hvm',
    });
    expect(images[0]).not.toHaveProperty('kernelId');
    expect(images[0]).not.toHaveProperty('ramdiskId');
    // euca-describe-images' columns: kernel and ramdisk empty, virtualization type hvm.
    const text = cli('images', '--data-dir', dataDir).stdout.trim().split('\t');
    expect([text[1], text[7], text[8], text[9], text[12]]).toEqual([emi, 'machine', '', '', 'hvm']);

    // The boot test booted the disk through the firmware and logged in with the served key.
    const bootLog = readFileSync(join(work, 'logs', 'boot-test.log'), 'utf8');
    const qemu = bootLog.split('\n').find((l) => l.startsWith('$ qemu-system-x86_64'));
    expect(qemu).toBeDefined();
    expect(qemu).not.toContain('-kernel');
    expect(qemu).toContain('debian-minimal-hvm.img,format=raw,if=virtio,snapshot=on');
    expect(qemu).toContain('guestfwd=tcp:169.254.169.254:80-tcp:127.0.0.1:');
    expect(bootLog).toContain('metadata: GET /latest/meta-data/public-keys/0/openssh-key -> 200');
    expect(bootLog).toMatch(/logged in as debian after .* with the key from the metadata service/);
    const console = readFileSync(join(work, 'artifacts', 'boot-test', 'console.log'), 'utf8');
    // GRUB from the image booted the kernel with the console on tty0 and ttyS0.
    expect(console).toMatch(/Booting `Linux \S+-cloud-amd64'/);
    expect(console).toMatch(
      /Command line: BOOT_IMAGE=\S+ root=UUID=\S+ ro console=tty0 console=ttyS0/,
    );
    expect(console).toContain('emi-recipe: installed SSH key for debian');

    // The bundle is a machine image without kernel_id/ramdisk_id, as euca-bundle-image
    // writes one bundled without --kernel/--ramdisk.
    const manifest = readFileSync(
      join(work, 'artifacts', 'bundle-machine', 'debian-minimal-hvm.img.manifest.xml'),
      'utf8',
    );
    expect(manifest).toContain(
      '<machine_configuration><architecture>x86_64</architecture></machine_configuration>',
    );
    expect(manifest).toContain('<type>machine</type>');
  });
});
