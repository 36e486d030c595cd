// The ISO install path with a test-built installer ISO booted in real QEMU under TCG:
// the preseed is injected and followed, the guest powers off, and the disk goes through
// customize and extraction like a debootstrap one. A hanging installer hits the timeout
// with a clear error; a checksum mismatch stops before anything boots.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { StepFailure } from '../../../src/plan/step.js';
import type { BuiltinKind, BuiltinStepKind } from '../../../src/plan/step-params.js';
import { createDisk } from '../../../src/steps/create-disk.js';
import { customize } from '../../../src/steps/customize.js';
import { extractKernel } from '../../../src/steps/extract-kernel.js';
import { extractRamdisk } from '../../../src/steps/extract-ramdisk.js';
import { extractRootfs } from '../../../src/steps/extract-rootfs.js';
import { installOs } from '../../../src/steps/install-os.js';
import { downloadIso } from '../../../src/steps/iso-download.js';
import { quietTask } from '../../../src/core/task.js';
import { createServer } from 'node:http';
import { catFile, debugfsErr, fileType } from '../../helpers/debugfs.js';
import { recipeSteps, StepHarness, stepOf, tempWorkDir } from '../../helpers/step-harness.js';
import { buildTestInstallerIso } from '../../helpers/test-installer.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

/** The output lines a guest failure carries (none for other kinds). */
const tailOf = (f: StepFailure): readonly string[] =>
  f.kind === 'guest' ? (f.outputTail ?? []) : [];

const MINUTES = 60_000;
const isRoot = process.getuid?.() === 0;

function recipe(options: { sha256: string; timeout: string }): string {
  return `name: test-installer
arch: x86_64
disk:
  size: 256M
  format: qcow2
install:
  iso:
    path: ./installer.iso
    sha256: "${options.sha256}"
  answers: preseed
  vm:
    memory: 512M
    cpus: 1
    accel: tcg
    timeout: ${options.timeout}
extract:
  rootfsSize: 128M
publish:
  cloud: local
`;
}

describe('install from an installer ISO (test-built, real QEMU, TCG)', () => {
  let work: string;
  let good: string;
  let goodSha: string;
  let version: string;

  beforeAll(() => {
    return (async () => {
      work = await tempWorkDir('iso');
      good = join(work, 'good');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(good);
      version = buildTestInstallerIso(join(good, 'installer.iso'), good).version;
      goodSha = createHash('sha256')
        .update(readFileSync(join(good, 'installer.iso')))
        .digest('hex');
    })();
  }, 2 * MINUTES);
  afterAll(() => rm(work, { recursive: true, force: true }));

  test(
    'the installer follows the injected preseed and powers off; customize and extraction follow',
    async () => {
      writeFileSync(join(good, 'recipe.yaml'), recipe({ sha256: goodSha, timeout: '4m' }));
      const specs = await recipeSteps(join(good, 'recipe.yaml'));
      const h = new StepHarness(join(good, 'work'));
      const run = async <K extends BuiltinKind>(id: K, kind: BuiltinStepKind<K>) => {
        const r = await h.run(kind, stepOf(specs, id, id));
        if (!r.ok)
          throw new Error(
            `${id}: ${JSON.stringify(r.error, null, 2)}\n${h.logs.get(id)?.join('\n')}`,
          );
        return r.value;
      };
      await run('create-disk', createDisk);
      const started = Date.now();
      const installed = await run('install-os', installOs);
      console.log(`ISO install under TCG: ${Date.now() - started} ms`);
      expect(installed.values).toMatchObject({
        layout: 'debian-installer',
        accel: 'tcg',
        sha256: goodSha,
        rootPartition: 1,
      });
      const log = readFileSync(join(good, 'work', 'logs', 'install.log'), 'utf8');
      expect(log).toContain('# accelerator: TCG');
      expect(log).toContain('emi-test-installer: preseed names disk /dev/vda');
      expect(log).toContain('emi-test-installer: 100% done, powering off');
      expect(h.logs.get('install-os')?.join('\n')).toContain('the installer powered the VM off');

      if (!isRoot) return;
      await run('customize', customize);
      const kernel = await run('extract-kernel', extractKernel);
      const ramdisk = await run('extract-ramdisk', extractRamdisk);
      const root = await run('extract-rootfs', extractRootfs);
      expect(kernel.values.kernelVersion).toBe(version);
      expect(fileType(join(kernel.dir, String(kernel.artifacts.kernel)))).toMatch(/Linux kernel/);
      expect(fileType(join(ramdisk.dir, String(ramdisk.artifacts.ramdisk)))).toMatch(/gzip/);
      const image = join(root.dir, String(root.artifacts.rootfs));
      expect(statSync(image).size).toBe(128 * 2 ** 20);
      expect(spawnSync('e2fsck', ['-fn', image]).status).toBe(0);
      // The generated preseed reached the installer, which copied it into the system.
      expect(catFile(image, '/root/preseed.cfg')).toContain(
        'd-i partman-auto/disk string /dev/vda',
      );
      expect(debugfsErr(image, 'stat /etc/udev/rules.d/70-persistent-net.rules')).toMatch(
        /File not found/,
      );
    },
    8 * MINUTES,
  );

  test(
    'an installer that never powers off hits the timeout with a clear error',
    async () => {
      const dir = join(work, 'broken');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir);
      buildTestInstallerIso(join(dir, 'installer.iso'), dir, { broken: true });
      const sha = createHash('sha256')
        .update(readFileSync(join(dir, 'installer.iso')))
        .digest('hex');
      writeFileSync(join(dir, 'recipe.yaml'), recipe({ sha256: sha, timeout: '20s' }));
      const specs = await recipeSteps(join(dir, 'recipe.yaml'));
      const h = new StepHarness(join(dir, 'work'));
      expect((await h.run(createDisk, stepOf(specs, 'create-disk', 'create-disk'))).ok).toBe(true);
      const started = Date.now();
      const r = await h.run(installOs, stepOf(specs, 'install-os', 'install-os'));
      expect(Date.now() - started).toBeLessThan(90_000);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.reason).toBe('install-timeout');
      expect(describeStepFailure(r.error)).toMatch(
        /^the installer did not power the VM off within 20s \(TCG\) and was stopped\. The console is in .*logs\/install\.log/,
      );
      expect(tailOf(r.error).join('\n')).toContain('broken on purpose');
      // Nothing half-installed is left as an output.
      expect(existsSync(join(dir, 'work', 'steps', 'install-os'))).toBe(false);
    },
    3 * MINUTES,
  );

  test(
    'a checksum mismatch stops before booting',
    async () => {
      const dir = join(good, 'mismatch');
      const { mkdirSync, copyFileSync } = await import('node:fs');
      mkdirSync(dir);
      copyFileSync(join(good, 'installer.iso'), join(dir, 'installer.iso'));
      const wrong = '0'.repeat(64);
      writeFileSync(join(dir, 'recipe.yaml'), recipe({ sha256: wrong, timeout: '4m' }));
      const specs = await recipeSteps(join(dir, 'recipe.yaml'));
      const h = new StepHarness(join(dir, 'work'));
      expect((await h.run(createDisk, stepOf(specs, 'create-disk', 'create-disk'))).ok).toBe(true);
      const r = await h.run(installOs, stepOf(specs, 'install-os', 'install-os'));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error).toMatchObject({
        kind: 'input',
        reason: 'iso-checksum-mismatch',
        detail: `the ISO's SHA-256 is ${goodSha}, the recipe expects ${wrong}: check the file (a partial or different download?) or update install.iso.sha256. Nothing was booted.`,
      });
      expect(existsSync(join(dir, 'work', 'logs', 'install.log'))).toBe(false);
    },
    2 * MINUTES,
  );

  test('install.iso.url: downloaded once over HTTP, checked, then reused from the cache', async () => {
    const iso = readFileSync(join(good, 'installer.iso'));
    let requests = 0;
    const server = createServer((req, res) => {
      requests += 1;
      if (req.url !== '/installer.iso') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(iso.length) }).end(iso);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const env = { EMI_RECIPE_CACHE_DIR: join(work, 'cache') };
    try {
      const url = `http://127.0.0.1:${port}/installer.iso`;
      const first = await downloadIso(quietTask(), { url, sha256: goodSha, env });
      expect(first).toEqual({ ok: true, value: join(work, 'cache', 'isos', `${goodSha}.iso`) });
      expect(readFileSync(join(work, 'cache', 'isos', `${goodSha}.iso`)).equals(iso)).toBe(true);
      const second = await downloadIso(quietTask(), { url, sha256: goodSha, env });
      expect(second.ok).toBe(true);
      expect(requests).toBe(1);
      const wrong = 'ab'.repeat(32);
      const bad = await downloadIso(quietTask(), { url, sha256: wrong, env });
      expect(bad).toMatchObject({ ok: false, error: { reason: 'iso-checksum-mismatch' } });
      expect(existsSync(join(work, 'cache', 'isos', `${wrong}.iso`))).toBe(false);
      const missing = await downloadIso(quietTask(), {
        url: `http://127.0.0.1:${port}/nope.iso`,
        sha256: wrong,
        env,
      });
      expect(missing).toMatchObject({
        ok: false,
        error: { reason: 'iso-download-failed', detail: expect.stringContaining('HTTP 404') },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
