// Debian's real installer (13, from its netboot kernel and initrd, laid out like a netinst
// ISO) through the product: `emi-recipe apply` with install: {iso, answers: preseed} and
// the generated preseed, then customize, extraction, bundling, the boot test with an SSH
// login, and registration in the local cloud. Takes about an hour under TCG: run it with
// `npm run test:installer` (not part of CI's .ci/run). This machine's mirror needs the
// workarounds in mirror-front.ts and netinst-iso.ts; users' mirrors and ISOs do not.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { repoPath } from '../helpers/paths.js';
import { scrubbedEnv } from '../helpers/run-cli.js';
import { DebianArchive } from './debian-archive.js';
import { startMirrorFront, type MirrorFront } from './mirror-front.js';
import { buildNetinstIso, debian13Netboot, harnessOverlay } from './netinst-iso.js';

const MINUTES = 60_000;
const dir = process.env.EMI_INSTALLER_TEST_DIR ?? '/var/tmp/emi-real-installer';
const cache = join(dir, 'cache');
const run = join(dir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);

const RECIPE = `name: real-debian-installer
description: Debian 13 from its real installer (test)
arch: x86_64
disk:
  size: 4G
  format: qcow2
install:
  iso:
    path: ./netinst.iso
  answers: preseed
  vm:
    memory: 1G
    timeout: 90m
customize:
  users:
    - name: debian
  rcLocal:
    metadataSshKey:
      user: debian
  remove:
    - /etc/udev/rules.d/70-persistent-net.rules
publish:
  cloud: local
test:
  boot: true
  commands:
    - cat /etc/debian_version
`;

function apply(log: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const out = createWriteStream(log);
    let stdout = '';
    const child = spawn(
      process.execPath,
      [repoPath('bin', 'emi-recipe.js'), 'apply', 'recipe.yaml', '--no-progress'],
      {
        cwd: run,
        env: scrubbedEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      out.write(b);
    });
    child.stderr.on('data', (b: Buffer) => out.write(b));
    child.on('close', (code) => {
      out.end();
      resolve({ code, stdout });
    });
  });
}

describe("Debian 13's real installer through emi-recipe apply", () => {
  let front: MirrorFront;
  const frontLog: string[] = [];

  beforeAll(async () => {
    mkdirSync(run, { recursive: true });
    const archive = await DebianArchive.fromHost(cache);
    const netboot = await debian13Netboot(archive);
    const udebs = (
      await archive.packages(netboot.suite, 'main/debian-installer/binary-amd64')
    ).filter((s) => !/-modules-|^kernel-image-/.test(s.get('Package') ?? ''));
    front = await startMirrorFront(archive, {
      suite: netboot.suite,
      udebs,
      log: (l) => frontLog.push(l),
    });
    console.log(`mirror front on 127.0.0.1:${front.port}; left out: ${front.missing.join(' ')}`);
    const harness = [
      "# emi-recipe real-installer test harness (this machine's mirror only)",
      'd-i mirror/country string manual',
      'd-i mirror/protocol string http',
      `d-i mirror/http/hostname string 10.0.2.2:${front.port}`,
      `d-i mirror/http/directory string ${archive.mirror.directory}`,
      'd-i mirror/http/proxy string',
      'd-i debian-installer/allow_unauthenticated boolean true',
      'd-i anna/no_kernel_modules boolean true',
      'd-i apt-setup/services-select multiselect',
      'd-i apt-setup/non-free-firmware boolean false',
      '',
    ].join('\n');
    const overlay = await harnessOverlay(archive, netboot, harness, join(run, 'overlay'));
    buildNetinstIso({ netboot, overlay, out: join(run, 'netinst.iso'), work: run });
    writeFileSync(join(run, 'recipe.yaml'), RECIPE);
  }, 20 * MINUTES);

  afterAll(async () => {
    writeFileSync(join(run, 'mirror-front.log'), frontLog.join('\n'));
    await front.close();
  });

  test(
    'installs unattended, then customize, bundle, boot test with SSH login and registration pass',
    async () => {
      const started = Date.now();
      const r = await apply(join(run, 'apply.log'));
      const minutes = ((Date.now() - started) / MINUTES).toFixed(1);
      console.log(
        `emi-recipe apply: exit ${r.code} after ${minutes} min; log ${join(run, 'apply.log')}`,
      );
      const install = readFileSync(
        join(run, '.emi-recipe', 'real-debian-installer', 'logs', 'install.log'),
        'utf8',
      );
      // The generated preseed (not the harness) answered the questions that stopped d-i.
      expect(install).not.toMatch(/Select your location|Root password:/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Images: eki-[0-9a-f]{8} eri-[0-9a-f]{8} emi-[0-9a-f]{8}/);
      const boot = readFileSync(
        join(run, '.emi-recipe', 'real-debian-installer', 'logs', 'boot-test.log'),
        'utf8',
      );
      expect(boot).toMatch(/logged in as debian after .* with the key from the metadata service/);
    },
    150 * MINUTES,
  );
});
