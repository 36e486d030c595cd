// ssh's argv: the login name is -l's value, so no name can be read as an option.
import { describe, expect, test } from '@jest/globals';
import { sshArgs } from '../../../src/tools/ssh.js';

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
