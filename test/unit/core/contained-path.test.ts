import {
  mkdirSync,
  rmSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  containedDir,
  lstatContained,
  pathComponents,
  removeContained,
  renameContained,
  writeContained,
} from '../../../src/core/contained-path.js';

const bases: string[] = [];
afterAll(() => {
  for (const base of bases) rmSync(base, { recursive: true, force: true });
});

/** An image tree and, beside it, a "host" directory that links planted in the image point at. */
function rig() {
  const base = mkdtempSync(join(tmpdir(), 'emi-contained-'));
  bases.push(base);
  const root = join(base, 'image');
  const host = join(base, 'host');
  mkdirSync(root);
  mkdirSync(join(host, 'etc'), { recursive: true });
  writeFileSync(join(host, 'etc', 'shadow'), 'secret\n');
  return { root, host };
}

describe('paths inside an untrusted tree', () => {
  test('components: leading slashes and dots are dropped, ".." is refused', () => {
    expect(pathComponents('/etc//resolv.conf')).toEqual(['etc', 'resolv.conf']);
    expect(pathComponents('./usr/sbin/')).toEqual(['usr', 'sbin']);
    expect(() => pathComponents('/etc/../../x')).toThrow('".."');
  });

  test('a write through a planted directory link (etc -> host /etc) is refused and the host is untouched', async () => {
    const { root, host } = rig();
    symlinkSync(join(host, 'etc'), join(root, 'etc'));
    const r = await writeContained(root, '/etc/resolv.conf', 'nameserver 10.0.0.1\n', 0o644);
    expect(r).toEqual({ ok: false, error: { reason: 'symlink', path: '/etc' } });
    expect(readdirSync(join(host, 'etc'))).toEqual(['shadow']);
  });

  test('a link deeper down (usr/sbin -> /) is refused as well, naming it', async () => {
    const { root, host } = rig();
    mkdirSync(join(root, 'usr'));
    symlinkSync(host, join(root, 'usr', 'sbin'));
    const r = await writeContained(root, 'usr/sbin/policy-rc.d', 'exit 101\n', 0o755);
    expect(r).toEqual({ ok: false, error: { reason: 'symlink', path: '/usr/sbin' } });
    expect(readdirSync(host)).toEqual(['etc']);
  });

  test('a file that is a link to a host file is never written through; it can be moved aside and back as a link', async () => {
    const { root, host } = rig();
    mkdirSync(join(root, 'etc'));
    const target = join(host, 'etc', 'shadow');
    symlinkSync(target, join(root, 'etc', 'resolv.conf'));
    expect(await lstatContained(root, '/etc/resolv.conf')).toEqual({ ok: true, value: 'symlink' });
    expect(await writeContained(root, '/etc/resolv.conf', 'x', 0o644)).toEqual({
      ok: false,
      error: { reason: 'symlink', path: '/etc/resolv.conf' },
    });
    expect((await renameContained(root, 'etc/resolv.conf', 'etc/resolv.saved')).ok).toBe(true);
    expect((await writeContained(root, '/etc/resolv.conf', 'nameserver 1\n', 0o644)).ok).toBe(true);
    expect((await removeContained(root, '/etc/resolv.conf')).ok).toBe(true);
    expect((await renameContained(root, 'etc/resolv.saved', 'etc/resolv.conf')).ok).toBe(true);
    expect(readlinkSync(join(root, 'etc', 'resolv.conf'))).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('secret\n');
  });

  test('removing a planted link removes the link, never what it points at', async () => {
    const { root, host } = rig();
    mkdirSync(join(root, 'var', 'tmp'), { recursive: true });
    symlinkSync(join(host, 'etc'), join(root, 'var', 'tmp', 'stage'));
    expect((await removeContained(root, '/var/tmp/stage')).ok).toBe(true);
    expect(readdirSync(join(root, 'var', 'tmp'))).toEqual([]);
    expect(readdirSync(join(host, 'etc'))).toEqual(['shadow']);
  });

  test('missing directories are created; a file in the way is reported', async () => {
    const { root } = rig();
    const made = await containedDir(root, '/var/tmp/stage', { create: true });
    expect(made).toEqual({ ok: true, value: join(root, 'var', 'tmp', 'stage') });
    writeFileSync(join(root, 'proc'), '');
    expect(await containedDir(root, 'proc', { create: true })).toEqual({
      ok: false,
      error: { reason: 'not-a-directory', path: '/proc' },
    });
    expect(await containedDir(root, '/nothing/here', { create: false })).toEqual({
      ok: true,
      value: join(root, 'nothing', 'here'),
    });
  });

  test('writing never replaces something already there', async () => {
    const { root } = rig();
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'hosts'), 'old');
    expect((await writeContained(root, 'etc/hosts', 'new', 0o644)).ok).toBe(false);
    expect(readFileSync(join(root, 'etc', 'hosts'), 'utf8')).toBe('old');
  });
});
