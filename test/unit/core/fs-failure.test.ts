import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import {
  describeFsFailure,
  fsFailureOf,
  makeDirectories,
  type FsFailure,
} from '../../../src/core/fs-failure.js';

/** An error shaped like the ones node:fs throws. */
const errno = (code: string, path: string): Error =>
  Object.assign(new Error(`${code}: x, open '${path}'`), { code, path, syscall: 'open' });

describe('file-system failures the user must fix', () => {
  test('EROFS, EACCES, EPERM, ENOSPC, EDQUOT are classified; other errors are not', () => {
    for (const code of ['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT'])
      expect(fsFailureOf(errno(code, '/w/.state.json.tmp-1'), '/w/state.json')).toEqual({
        reason: 'fs-error',
        code,
        path: '/w/state.json',
      });
    // Without a path to name, the error's own path is named.
    expect(fsFailureOf(errno('ENOSPC', '/w/lock'))?.path).toBe('/w/lock');
    expect(fsFailureOf(errno('ENOENT', '/w/x'))).toBeUndefined();
    expect(fsFailureOf(errno('EIO', '/w/x'))).toBeUndefined();
    expect(fsFailureOf(new TypeError('x is not a function'))).toBeUndefined();
    expect(fsFailureOf(Object.assign(new Error('y'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(
      undefined,
    );
    expect(fsFailureOf('ENOSPC')).toBeUndefined();
  });

  test('each code names the path, what it means and what to do', () => {
    const say = (code: FsFailure['code']) =>
      describeFsFailure(
        { reason: 'fs-error', code, path: '/w/lock' },
        { action: 'write the lock file', elsewhere: 'use another work directory (--work-dir DIR)' },
      );
    expect(say('EROFS')).toBe(
      'cannot write the lock file /w/lock: the file system is read-only (EROFS). Remount it read-write, or use another work directory (--work-dir DIR).',
    );
    expect(say('EACCES')).toBe(
      'cannot write the lock file /w/lock: permission denied (EACCES). Check the owner and mode of /w/lock and its directory (ls -ld), or use another work directory (--work-dir DIR).',
    );
    expect(say('ENOSPC')).toBe(
      'cannot write the lock file /w/lock: no space left on the device (ENOSPC). Free some space there (df -h; also df -i for inodes), or use another work directory (--work-dir DIR).',
    );
    expect(say('EDQUOT')).toBe(
      'cannot write the lock file /w/lock: the disk quota is exceeded (EDQUOT). Free some space within your quota (quota -s), or use another work directory (--work-dir DIR).',
    );
    expect(
      describeFsFailure({ reason: 'fs-error', code: 'EPERM', path: '/x' }, { action: 'access' }),
    ).toBe(
      'cannot access /x: permission denied (EPERM). Check the owner and mode of /x and its directory (ls -ld).',
    );
  });

  test('makeDirectories creates what is missing and returns the first one it made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-mkdirs-'));
    expect(await makeDirectories(join(dir, 'a', 'b', 'c'))).toBe(join(dir, 'a'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(await makeDirectories(join(dir, 'a', 'b'))).toBeUndefined();
    expect(await makeDirectories(join(dir, 'a', 'b', 'd'))).toBe(join(dir, 'a', 'b', 'd'));
  });
});
