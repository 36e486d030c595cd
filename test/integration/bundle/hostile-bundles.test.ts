// Hostile bundles against the real unbundler and CLI: a part that is a symlink to
// /dev/zero or a FIFO (refused at once, never read or waited on; SIGTERM is the test's
// safety net), a part far longer than the manifest says, a symlink planted at the old
// temporary name, and a signed manifest wrapping another bundle's elements.
import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { describeBundleFailure } from '../../../src/bundle/bundle-failure.js';
import { bundleImage } from '../../../src/bundle/make-bundle.js';
import { unbundle } from '../../../src/bundle/unbundle.js';
import { quietTask } from '../../../src/core/task.js';
import { copyGoldenBundle, removeDir, tempDir } from '../../helpers/bundle-inputs.js';
import { signedElements, wrapSignedElements } from '../../helpers/forged-manifests.js';
import { GOLDEN_CASES, GOLDEN_DIR, goldenKey, type GoldenCase } from '../../helpers/golden.js';
import { repoPath } from '../../helpers/paths.js';
import { runBuiltCli, scrubbedEnv } from '../../helpers/run-cli.js';

jest.setTimeout(120_000);

let work: string;
beforeAll(() => {
  work = tempDir('hostile-bundles');
});
afterAll(() => {
  removeDir(work);
});

const byName = (name: string): GoldenCase => GOLDEN_CASES.find((c) => c.name === name)!;
const multipart = byName('multipart');

/** A copy of the multipart golden bundle whose last part is replaced by `replace(path)`. */
function multipartWithLastPart(label: string, replace: (path: string) => void): string {
  const dir = copyGoldenBundle(multipart, mkdtempSync(join(work, `${label}-`)));
  const last = join(dir, 'multipart-golden.img.part.02');
  rmSync(last);
  replace(last);
  return dir;
}

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly ms: number;
  readonly neededSigterm: boolean;
}

/**
 * Runs `emi-recipe unbundle` on `dir`; SIGTERM after `graceMs` if it is still running,
 * SIGKILL 10 s later, so that a hang fails the test instead of blocking it.
 */
function runUnbundle(
  dir: string,
  dest: string,
  graceMs: number,
  manifest = join(dir, multipart.manifest),
): Promise<Ended> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      repoPath('bin', 'emi-recipe.js'),
      'unbundle',
      '-m',
      manifest,
      '-k',
      join(GOLDEN_DIR, 'keys', 'user-key.pem'),
      '-d',
      dest,
      '--no-progress',
    ],
    { env: scrubbedEnv() },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let neededSigterm = false;
  const term = setTimeout(() => {
    neededSigterm = true;
    child.kill('SIGTERM');
  }, graceMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs + 10_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, signal, stderr, ms: Date.now() - started, neededSigterm });
    }),
  );
}

describe('unbundle refuses parts that are not regular files, at once', () => {
  test('a part that is a symlink to /dev/zero: exit 1 with the part named, no SIGTERM needed', async () => {
    const dir = multipartWithLastPart('dev-zero', (path) => {
      symlinkSync('/dev/zero', path);
    });
    const dest = join(work, 'dev-zero-out');
    const r = await runUnbundle(dir, dest, 5_000);
    expect(r).toMatchObject({ code: 1, signal: null, neededSigterm: false });
    expect(r.stderr).toContain(
      'error: part 2 (multipart-golden.img.part.02) is a symbolic link, not a regular file',
    );
    expect(r.stderr).toContain('Parts must be plain files');
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
  });

  test('a part that is a FIFO: refused, never waited on', async () => {
    const dir = multipartWithLastPart('fifo', (path) => {
      const made = spawnSync('mkfifo', [path]);
      if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
    });
    const r = await runUnbundle(dir, join(work, 'fifo-out'), 5_000);
    expect(r).toMatchObject({ code: 1, signal: null, neededSigterm: false });
    expect(r.stderr).toContain('is a named pipe (FIFO), not a regular file');
  });

  test('a manifest that is a FIFO: refused, never waited on', async () => {
    const dir = mkdtempSync(join(work, 'fifo-manifest-'));
    const manifest = join(dir, 'x.manifest.xml');
    const made = spawnSync('mkfifo', [manifest]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
    const r = await runUnbundle(dir, join(work, 'fifo-manifest-out'), 5_000, manifest);
    expect(r).toMatchObject({ code: 1, signal: null, neededSigterm: false });
    expect(r.stderr).toContain(
      `cannot read the manifest ${manifest} (a named pipe (FIFO), not a regular file)`,
    );
  });

  test('a last part of 1 TiB (sparse): reading stops at the bundled size', async () => {
    const dir = copyGoldenBundle(multipart, mkdtempSync(join(work, 'huge-')));
    truncateSync(join(dir, 'multipart-golden.img.part.02'), 1024 ** 4);
    const r = await runUnbundle(dir, join(work, 'huge-out'), 30_000);
    expect(r).toMatchObject({ code: 1, signal: null, neededSigterm: false });
    expect(r.stderr).toContain(
      `bundled size mismatch: the manifest says ${multipart.bundledSize} bytes, the parts hold more (reading stopped in part 2, multipart-golden.img.part.02)`,
    );
  });
});

describe('unbundle writes only files it created', () => {
  test('a symlink planted at the old temporary name is not followed', async () => {
    const c = byName('kernel');
    const dir = copyGoldenBundle(c, mkdtempSync(join(work, 'planted-')));
    const dest = join(work, 'planted-out');
    mkdirSync(dest);
    const victim = join(work, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dest, `.${c.image}.tmp-${process.pid}`));
    const r = await unbundle(
      {
        manifestPath: join(dir, c.manifest),
        privateKeyPem: goldenKey('user-key'),
        destDir: dest,
      },
      quietTask(),
    );
    if (!r.ok) throw new Error(describeBundleFailure(r.error));
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(r.value.imagePath).isFile()).toBe(true);
  });
});

describe('a signed manifest wrapping another bundle is refused', () => {
  test('the kernel signature over a commented-out copy, the ramdisk for real', async () => {
    const kernel = byName('kernel');
    const ramdisk = byName('ramdisk');
    const dir = copyGoldenBundle(ramdisk, mkdtempSync(join(work, 'wrapped-')));
    const kernelXml = readFileSync(
      join(GOLDEN_DIR, 'bundles', 'kernel', kernel.manifest),
      'latin1',
    );
    const ramdiskXml = readFileSync(join(dir, ramdisk.manifest), 'latin1');
    const forged = join(dir, 'forged.manifest.xml');
    writeFileSync(
      forged,
      wrapSignedElements(kernelXml, signedElements(ramdiskXml), 'comment'),
      'latin1',
    );
    const dest = join(work, 'wrapped-out');
    const r = await unbundle(
      { manifestPath: forged, privateKeyPem: goldenKey('user-key'), destDir: dest },
      quietTask(),
    );
    expect(r.ok ? `accepted, signature ${r.value.signature}` : describeBundleFailure(r.error)).toBe(
      'manifest field (document): comments are not accepted in a manifest (line 2, column 125)',
    );
    expect(existsSync(dest)).toBe(false);
    const cli = runBuiltCli(
      ['unbundle', '-m', forged, '-k', join(GOLDEN_DIR, 'keys', 'user-key.pem'), '-d', dest],
      { env: scrubbedEnv() },
    );
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toBe(
      'error: manifest field (document): comments are not accepted in a manifest (line 2, column 125)\n' +
        'The manifest is malformed or was altered after signing (euca2ools writes none of the refused constructs): do not trust this bundle.\n',
    );
    expect(existsSync(dest)).toBe(false);
  });
});

describe('unbundle stops on SIGTERM while reading', () => {
  test('SIGTERM in the middle of a 192 MiB unbundle: exit 130 within seconds, nothing left', async () => {
    const dir = mkdtempSync(join(work, 'sigterm-'));
    const image = join(dir, 'big.img');
    writeFileSync(image, randomBytes(192 * 2 ** 20));
    const bundled = await bundleImage(
      {
        imagePath: image,
        destDir: dir,
        imageType: 'machine',
        arch: 'x86_64',
        account: '123456789012',
        userCertPem: goldenKey('user-cert'),
        userKeyPem: goldenKey('user-key'),
        cloudCertPem: goldenKey('cloud-cert'),
        durable: false,
      },
      quietTask(),
    );
    if (!bundled.ok) throw new Error(describeBundleFailure(bundled.error));
    const dest = join(work, 'sigterm-out');
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        repoPath('bin', 'emi-recipe.js'),
        'unbundle',
        '-m',
        bundled.value.manifestPath,
        '-k',
        join(GOLDEN_DIR, 'keys', 'user-key.pem'),
        '-d',
        dest,
      ],
      { env: scrubbedEnv() },
    );
    let stderr = '';
    let termAt = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (termAt === 0 && stderr.includes('unbundling')) {
        termAt = Date.now();
        child.kill('SIGTERM');
      }
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(kill);
    expect(termAt).toBeGreaterThan(started);
    expect(code).toBe(130);
    expect(Date.now() - termAt).toBeLessThan(5_000);
    expect(stderr).toContain('interrupted; no output was left behind');
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
  });
});
