// The generated /etc/rc.local run for real by sh, with fake curl/getent/id/chown/modprobe on
// PATH: the key is installed once (700/600), junk is refused, a failing fetch gives up at
// the timeout, everything is logged with the emi-recipe: prefix.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { rcLocalScript } from '../../../src/guest/rc-local.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests user@host';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setUp(curlBody: string): {
  dir: string;
  run: () => { status: number | null; console: string };
} {
  const dir = mkdtempSync('/tmp/emi-rclocal-');
  dirs.push(dir);
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  mkdirSync(bin);
  mkdirSync(home);
  const tool = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool('curl', curlBody);
  tool('getent', `[ "$2" = debian ] && echo "debian:x:1000:1000::${home}:/bin/bash"`);
  tool('id', 'echo debian');
  tool('chown', 'exit 0');
  tool('logger', 'exit 0');
  tool('modprobe', '[ "$1" = loop ]');
  tool('sleep', 'exit 0');
  const script = rcLocalScript({
    metadataSshKey: {
      user: 'debian',
      url: 'http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key',
      timeoutMs: 1000,
    },
    modules: ['loop', 'acpiphp'],
    lines: ['echo line-ran >> "$console"'],
  }).replace('console=/dev/console', `console=${join(dir, 'console')}`);
  writeFileSync(join(dir, 'rc.local'), script);
  writeFileSync(join(dir, 'console'), '');
  const hostPath = '/usr/bin:/bin';
  return {
    dir,
    run: () => {
      const r = spawnSync('sh', [join(dir, 'rc.local')], {
        env: { PATH: `${bin}:${hostPath}` },
        encoding: 'utf8',
      });
      return { status: r.status, console: readFileSync(join(dir, 'console'), 'utf8') };
    },
  };
}

describe('rc.local', () => {
  test('passes sh -n (syntax)', () => {
    const { dir } = setUp('exit 0');
    execFileSync('sh', ['-n', join(dir, 'rc.local')]);
  });

  test('installs the key once, refuses junk, logs to the console', () => {
    const { dir, run } = setUp(`printf '%s\\r\\n' '${KEY}' '<html>not a key</html>'`);
    const first = run();
    expect(first.status).toBe(0);
    const keys = join(dir, 'home', '.ssh', 'authorized_keys');
    expect(readFileSync(keys, 'utf8')).toBe(`${KEY}\n`);
    expect(statSync(keys).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'home', '.ssh')).mode & 0o777).toBe(0o700);
    expect(first.console).toContain('emi-recipe: loaded module loop');
    expect(first.console).toContain('emi-recipe: could not load module acpiphp (ignored)');
    expect(first.console).toContain('emi-recipe: installed SSH key for debian');
    expect(first.console).toContain(
      'emi-recipe: ignored a line from http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key that is not an SSH public key',
    );
    expect(first.console).toContain('emi-recipe: running: echo line-ran >> "$console"\nline-ran');
    const second = run();
    expect(second.status).toBe(0);
    expect(readFileSync(keys, 'utf8')).toBe(`${KEY}\n`);
    expect(second.console).toContain('emi-recipe: SSH key for debian already installed');
  });

  test('a metadata service that never answers: gives up at the timeout and boots on', () => {
    const { dir, run } = setUp('exit 7');
    const started = Date.now();
    const r = run();
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.console).toContain(
      'emi-recipe: no SSH key from http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key within 1s',
    );
    expect(() => statSync(join(dir, 'home', '.ssh', 'authorized_keys'))).toThrow();
  });
});
