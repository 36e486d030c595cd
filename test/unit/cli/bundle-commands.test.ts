// bundle-image and unbundle in-process: flags, eucarc defaults, messages and exit codes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parseBlockDeviceMapping } from '../../../src/cli/commands/bundle-image-inputs.js';
import { runCli } from '../../../src/cli/main.js';
import { byteProgress, formatBytes } from '../../../src/cli/output/byte-progress.js';
import { memoryTerminal } from '../../../src/cli/output/terminal.js';
import { GOLDEN_DIR } from '../../helpers/golden.js';

const KEYS = join(GOLDEN_DIR, 'keys');
const eucarc = {
  EC2_CERT: join(KEYS, 'user-cert.pem'),
  EC2_PRIVATE_KEY: join(KEYS, 'user-key.pem'),
  EUCALYPTUS_CERT: join(KEYS, 'cloud-cert.pem'),
  EC2_USER_ID: '123456789012',
};

async function cli(args: string[], env: Record<string, string> = {}) {
  const terminal = memoryTerminal();
  const code = await runCli(args, { terminal, env, signal: new AbortController().signal });
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

let dir: string;
let image: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-cli-'));
  image = join(dir, 'initrd.img-6.1.0');
  writeFileSync(image, randomBytes(20_000));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bundle-image and unbundle', () => {
  test('round trip with eucarc variables; a ramdisk via --ramdisk true', async () => {
    const out = join(dir, 'bundle');
    const b = await cli(
      ['bundle-image', '-i', image, '--ramdisk', 'true', '-r', 'x86_64', '-d', out],
      eucarc,
    );
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(b.stdout).toBe(
      `Wrote 1 part (20 KiB) to ${out}\nWrote manifest ${join(out, 'initrd.img-6.1.0.manifest.xml')}\n`,
    );
    const xml = readFileSync(join(out, 'initrd.img-6.1.0.manifest.xml'), 'latin1');
    expect(xml).toContain('<ramdisk_id>true</ramdisk_id></machine_configuration>');
    expect(xml).toContain('<type>ramdisk</type>');
    const u = await cli(
      ['unbundle', '-m', join(out, 'initrd.img-6.1.0.manifest.xml'), '-d', join(dir, 'restored')],
      eucarc,
    );
    expect(u.code).toBe(0);
    expect(u.stdout).toContain('key from user_encrypted_key; signature verified');
    expect(
      readFileSync(join(dir, 'restored', 'initrd.img-6.1.0')).equals(readFileSync(image)),
    ).toBe(true);
  });

  test('missing account and cloud certificate are usage errors naming the variable', async () => {
    const noAccount = await cli(['bundle-image', '-i', image, '-r', 'x86_64'], {
      EUCALYPTUS_CERT: eucarc.EUCALYPTUS_CERT,
    });
    expect(noAccount.code).toBe(2);
    expect(noAccount.stderr).toContain('give -u ACCOUNT or set EC2_USER_ID');
    const noCloud = await cli(['bundle-image', '-i', image, '-r', 'x86_64', '-u', '1']);
    expect(noCloud.code).toBe(2);
    expect(noCloud.stderr).toContain('give --ec2cert FILE or set EUCALYPTUS_CERT');
  });

  test('without -c and -k: warnings, an UNSIGNED manifest that unbundle refuses unless allowed', async () => {
    const out = join(dir, 'unsigned');
    const b = await cli(['bundle-image', '-i', image, '-r', 'i386', '-d', out, '-p', 'plain.img'], {
      EUCALYPTUS_CERT: eucarc.EUCALYPTUS_CERT,
      EC2_USER_ID: '1',
    });
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(
      'warning: no private key (-k, EC2_PRIVATE_KEY): the manifest will be UNSIGNED',
    );
    const refused = await cli([
      'unbundle',
      '-m',
      join(out, 'plain.img.manifest.xml'),
      '-k',
      join(KEYS, 'cloud-key.pem'),
      '-d',
      join(dir, 'r2'),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is UNSIGNED');
    expect(refused.stderr).toContain('Add --allow-unsigned');
    const allowed = await cli([
      'unbundle',
      '-m',
      join(out, 'plain.img.manifest.xml'),
      '-k',
      join(KEYS, 'cloud-key.pem'),
      '-d',
      join(dir, 'r2'),
      '--allow-unsigned',
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('key from ec2_encrypted_key; manifest UNSIGNED');
  });

  test('bad values are usage errors naming the flag', async () => {
    const arch = await cli(
      ['bundle-image', '-i', image, '-r', 'sparc', '-d', join(dir, 'a')],
      eucarc,
    );
    expect(arch.code).toBe(2);
    expect(arch.stderr).toContain(
      "error: -r/--arch: expected one of i386, x86_64, armhf, ppc, ppc64, ppc64le, got 'sparc'",
    );
    const mapping = await cli(
      ['bundle-image', '-i', image, '-B', 'root', '-d', join(dir, 'b')],
      eucarc,
    );
    expect(mapping.code).toBe(2);
    expect(mapping.stderr).toContain('-B: expected VIRTUAL=DEVICE pairs');
    const missing = await cli(
      ['bundle-image', '-i', join(dir, 'nope.img'), '-d', join(dir, 'c')],
      eucarc,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read the image ${join(dir, 'nope.img')} (ENOENT)`);
    const mismatch = await cli(
      ['bundle-image', '-i', image, '-k', join(KEYS, 'cloud-key.pem'), '-d', join(dir, 'd')],
      eucarc,
    );
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain(
      'the user private key does not belong to the user certificate',
    );
  });

  test('unbundle: a wrong key is refused with exit 1 and a next step', async () => {
    const out = join(dir, 'bundle');
    const r = await cli([
      'unbundle',
      '-m',
      join(out, 'initrd.img-6.1.0.manifest.xml'),
      '-k',
      join(KEYS, 'cloud-key.pem'),
      '-c',
      join(KEYS, 'cloud-cert.pem'),
      '-d',
      join(dir, 'x'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`signature does not verify against ${join(KEYS, 'cloud-cert.pem')}`);
  });
});

describe('helpers', () => {
  test('block device mappings', () => {
    expect(parseBlockDeviceMapping('ami=sda1,root=/dev/sda1')).toEqual([
      { virtual: 'ami', device: 'sda1' },
      { virtual: 'root', device: '/dev/sda1' },
    ]);
    expect(parseBlockDeviceMapping('ami')).toBeUndefined();
    expect(parseBlockDeviceMapping('a=b=c')).toBeUndefined();
  });

  test('progress: plain lines every 10% off a terminal, nothing for small inputs', () => {
    const terminal = memoryTerminal();
    let now = 0;
    const progress = byteProgress(terminal, { label: 'bundling', enabled: true, now: () => now });
    const total = 1000 * 2 ** 20;
    for (let done = 0; done <= total; done += total / 40) {
      now += 100;
      progress.update({ done, total, unit: 'bytes' });
    }
    progress.update({ done: 5, total: 10, unit: 'bytes' });
    progress.end();
    const lines = terminal.stderr().trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatch(/^bundling: 100% {2}1000 MiB of 1000 MiB {2}\d+ MB\/s$/);
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 2 ** 30)).toBe('5.0 GiB');
  });
});
