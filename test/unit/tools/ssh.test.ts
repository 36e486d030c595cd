// ssh's argv: the login name is -l's value, so no name can be read as an option.
import { describe, expect, test } from '@jest/globals';
import { muxExitArgs, muxSocketPath, sshArgs } from '../../../src/tools/ssh.js';

describe('ssh', () => {
  test('the user is passed with -l, the host alone, the command after --', () => {
    const args = sshArgs(
      { user: '-oProxyCommand=touch /tmp/pwned', port: 2222, keyPath: '/k', connectTimeoutS: 5 },
      'true',
    );
    expect(args.slice(-5)).toEqual([
      '-l',
      '-oProxyCommand=touch /tmp/pwned',
      '127.0.0.1',
      '--',
      'true',
    ]);
    expect(args.some((a) => a.includes('@'))).toBe(false);
  });
});

describe('ssh connection sharing', () => {
  const target = { user: 'debian', port: 2222, keyPath: '/k', connectTimeoutS: 5 };
  const opts = (args: string[]) => args.filter((_, i) => args[i - 1] === '-o');

  test('the login is the master, kept in the background; commands are its clients', () => {
    const master = opts(
      sshArgs({ ...target, mux: { path: '/t/50%/mux', role: 'master' } }, 'true'),
    );
    expect(master).toEqual(
      expect.arrayContaining(['ControlPath=/t/50%%/mux', 'ControlMaster=yes', 'ControlPersist=60']),
    );
    const client = opts(sshArgs({ ...target, mux: { path: '/t/mux', role: 'client' } }, 'id'));
    expect(client).toEqual(expect.arrayContaining(['ControlPath=/t/mux', 'ControlMaster=no']));
    expect(client.some((o) => o.startsWith('ControlPersist'))).toBe(false);
    expect(opts(sshArgs(target, 'id')).some((o) => o.startsWith('Control'))).toBe(false);
    expect(muxExitArgs(target, '/t/mux')).toEqual([
      '-o',
      'ControlPath=/t/mux',
      '-O',
      'exit',
      '-l',
      'debian',
      '127.0.0.1',
    ]);
  });

  test('no sharing when the socket path would be too long for a Unix socket', () => {
    expect(muxSocketPath('/tmp/emi-boot-test-abc')).toBe('/tmp/emi-boot-test-abc/mux');
    expect(muxSocketPath(`/tmp/${'x'.repeat(100)}`)).toBeUndefined();
  });
});
