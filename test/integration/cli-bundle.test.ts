// bundle-image and unbundle as processes: eucarc defaults, messages and exit codes, Ctrl-C
// leaving nothing behind, and memory bounded while bundling a large sparse image.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { removeDir, tempDir } from '../helpers/bundle-inputs.js';
import { repoPath } from '../helpers/paths.js';
import { runBuiltCli, scrubbedEnv } from '../helpers/run-cli.js';

// Real processes over real files: more than jest's default 5 s per test.
jest.setTimeout(10 * 60_000);

const KEYS = join(GOLDEN_DIR, 'keys');
const eucarc = {
  EC2_CERT: join(KEYS, 'user-cert.pem'),
  EC2_PRIVATE_KEY: join(KEYS, 'user-key.pem'),
  EUCALYPTUS_CERT: join(KEYS, 'cloud-cert.pem'),
  EC2_USER_ID: '1234-5678-9012',
};

let work: string;
let image: string;
beforeAll(() => {
  work = tempDir('cli-bundle');
  image = join(work, 'vmlinuz-6.1.0');
  writeFileSync(image, Buffer.concat([randomBytes(300_000), Buffer.alloc(200_000)]));
});
afterAll(() => {
  removeDir(work);
});

describe('emi-recipe bundle-image / unbundle (process)', () => {
  test('--help shows the flags and an example', () => {
    const bundle = runBuiltCli(['bundle-image', '--help']);
    expect(bundle.code).toBe(0);
    expect(bundle.stdout).toContain('$ emi-recipe bundle-image -i');
    expect(bundle.stdout).toContain('--ec2cert <file>');
    expect(bundle.stdout).toContain('EUCALYPTUS_CERT');
    const unbundle = runBuiltCli(['unbundle', '--help']);
    expect(unbundle.code).toBe(0);
    expect(unbundle.stdout).toContain('$ emi-recipe unbundle -m');
  });

  test('bundles with the eucarc variables, then unbundles to the same bytes', () => {
    const dest = join(work, 'kernel');
    const r = runBuiltCli(
      ['bundle-image', '-i', image, '--kernel', 'true', '-r', 'x86_64', '-d', dest],
      {
        env: scrubbedEnv(eucarc),
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote manifest ${join(dest, 'vmlinuz-6.1.0.manifest.xml')}`);
    const xml = readFileSync(join(dest, 'vmlinuz-6.1.0.manifest.xml'), 'latin1');
    expect(xml).toContain('<kernel_id>true</kernel_id>');
    expect(xml).toContain('<user>123456789012</user><type>kernel</type>');
    expect(xml).toContain('<bundler><name>emi-recipe</name>');
    const out = join(work, 'restored');
    const u = runBuiltCli(['unbundle', '-m', join(dest, 'vmlinuz-6.1.0.manifest.xml'), '-d', out], {
      env: scrubbedEnv(eucarc),
    });
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    expect(u.stdout).toContain('signature verified');
    expect(readFileSync(join(out, 'vmlinuz-6.1.0')).equals(readFileSync(image))).toBe(true);
  });

  test('no cloud certificate: exit 2 naming the flag and the variable', () => {
    const r = runBuiltCli([
      'bundle-image',
      '-i',
      image,
      '-r',
      'x86_64',
      '-u',
      '123456789012',
      '-d',
      join(work, 'x'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'error: no cloud certificate: give --ec2cert FILE or set EUCALYPTUS_CERT',
    );
  });

  test('ids that do not suit the image type: exit 2 naming the flag', () => {
    const r = runBuiltCli(
      [
        'bundle-image',
        '-i',
        image,
        '--kernel',
        'true',
        '--ramdisk',
        'eri-12345678',
        '-d',
        join(work, 'y'),
      ],
      {
        env: scrubbedEnv(eucarc),
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "error: --ramdisk: expected nothing for a kernel image, got 'eri-12345678'",
    );
  });

  test('a tampered part: exit 1, the part named, what to do next', () => {
    const dest = join(work, 'tamper');
    expect(
      runBuiltCli(['bundle-image', '-i', image, '-r', 'i386', '-d', dest], {
        env: scrubbedEnv(eucarc),
      }).code,
    ).toBe(0);
    const part = join(dest, 'vmlinuz-6.1.0.part.00');
    const bytes = readFileSync(part);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    writeFileSync(part, bytes);
    const r = runBuiltCli([
      'unbundle',
      '-m',
      join(dest, 'vmlinuz-6.1.0.manifest.xml'),
      '-k',
      eucarc.EC2_PRIVATE_KEY,
      '-d',
      join(work, 'tampered-out'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: part 0 (vmlinuz-6.1.0.part.00): SHA-1 mismatch');
    expect(r.stderr).toContain('The bundle is damaged or was altered');
  });

  test('a certificate given as the key: exit 2', () => {
    const r = runBuiltCli(['unbundle', '-m', 'x.manifest.xml', '-k', eucarc.EC2_CERT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a PEM private key');
  });

  test('Ctrl-C while bundling: exit 130 and no parts left', async () => {
    const big = join(work, 'big.img');
    writeFileSync(big, randomBytes(160 * 2 ** 20));
    const dest = join(work, 'interrupted');
    const child = spawn(
      process.execPath,
      [repoPath('bin', 'emi-recipe.js'), 'bundle-image', '-i', big, '-r', 'x86_64', '-d', dest],
      {
        env: scrubbedEnv(eucarc),
      },
    );
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!interrupted && stderr.includes('bundling:')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted; no output was left behind');
    expect(readdirSync(dest)).toEqual([]);
  });

  test('Ctrl-C twice (exit at once): the temporary parts are still removed', async () => {
    const dest = join(work, 'interrupted-twice');
    const child = spawn(
      process.execPath,
      [
        repoPath('bin', 'emi-recipe.js'),
        'bundle-image',
        '-i',
        join(work, 'big.img'),
        '-r',
        'x86_64',
        '-d',
        dest,
      ],
      {
        env: scrubbedEnv(eucarc),
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const first = !stderr.includes('bundling:');
      stderr += chunk.toString();
      if (first && stderr.includes('bundling:')) {
        child.kill('SIGINT');
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(readdirSync(dest)).toEqual([]);
  });

  test('memory stays bounded bundling and unbundling a 6 GiB sparse image with 512 MiB of data', () => {
    const sparse = join(work, 'sparse.img');
    const fd = openSync(sparse, 'w');
    const random = randomBytes(2 ** 20);
    const text = Buffer.from('compressible text, a line of it\n'.repeat(2 ** 15));
    for (let i = 0; i < 512; i += 1) {
      const chunk = i % 2 === 0 ? random : text.subarray(0, 2 ** 20);
      writeSync(fd, chunk, 0, chunk.length, i * 11 * 2 ** 20);
    }
    writeSync(fd, Buffer.from('end'), 0, 3, 6 * 2 ** 30 - 3);
    closeSync(fd);
    // The CLI in-process, reporting its own peak resident memory: VmHWM of /proc/self/status,
    // not getrusage's maxrss, which Linux carries over from the forking parent (jest).
    const script = `import { readFileSync } from 'node:fs';
import { main } from ${JSON.stringify(repoPath('dist', 'cli', 'main.js'))};
const code = await main(process.argv.slice(1));
const hwm = /VmHWM:\\s*(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stderr.write('MAXRSS_KIB ' + (hwm ? hwm[1] : 'unknown') + '\\n');
process.exitCode = code;`;
    const peakMiB = (args: string[]): number => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], {
        env: scrubbedEnv(eucarc),
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return Number(/MAXRSS_KIB (\d+)/.exec(r.stderr)?.[1]) / 1024;
    };
    const bundled = peakMiB([
      'bundle-image',
      '-i',
      sparse,
      '-r',
      'x86_64',
      '-d',
      join(work, 'sparse-bundle'),
    ]);
    const unbundled = peakMiB([
      'unbundle',
      '-m',
      join(work, 'sparse-bundle', 'sparse.img.manifest.xml'),
      '-d',
      join(work, 'sparse-restored'),
    ]);
    console.log(
      `peak RSS for a 6 GiB sparse image: bundle ${Math.round(bundled)} MiB, unbundle ${Math.round(unbundled)} MiB`,
    );
    expect(bundled).toBeLessThan(256);
    expect(unbundled).toBeLessThan(256);
    expect(statSync(join(work, 'sparse-restored', 'sparse.img')).size).toBe(6 * 2 ** 30);
  });
});
