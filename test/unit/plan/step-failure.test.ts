// Building step failures: a tool failure's facts are kept field by field, and a step's
// catch turns only the file-system errors the user must fix into failures; everything
// else (a TypeError, an ENOENT nobody expected) is rethrown for the runner's bug path.
import { describe, expect, test } from '@jest/globals';
import {
  CANCELED,
  describeStepFailure,
  fsStepFailureOrRethrow,
  toolStepFailure,
} from '../../../src/plan/step-failure.js';

const errno = (code: string, path: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something, open '${path}'`), { code, syscall: 'open', path });

describe('toolStepFailure', () => {
  const base = {
    file: 'e2fsck',
    command: 'e2fsck -fn root.img',
    stdoutTail: ['s'],
    stderrTail: ['e'],
  };

  test('keeps the facts: program, command, exit code, both tails, what it was doing, the hint', () => {
    expect(
      toolStepFailure(
        { ...base, reason: 'exit-non-zero', exitCode: 4 },
        'checking',
        'run it again',
      ),
    ).toEqual({
      kind: 'tool',
      reason: 'tool-exit-non-zero',
      doing: 'checking',
      tool: 'e2fsck',
      command: 'e2fsck -fn root.img',
      exitCode: 4,
      stdoutTail: ['s'],
      stderrTail: ['e'],
      hint: 'run it again',
    });
  });

  test('a canceled tool is a canceled step', () => {
    expect(toolStepFailure({ ...base, reason: 'canceled' }, 'checking')).toBe(CANCELED);
  });
});

describe('fsStepFailureOrRethrow', () => {
  test.each(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM'])(
    '%s becomes an fs failure naming the path',
    (code) => {
      const failure = fsStepFailureOrRethrow(errno(code, '/w/tmp/x/disk.raw'), {
        doing: 'installing',
      });
      expect(failure).toEqual({
        kind: 'fs',
        reason: 'io-error',
        code,
        path: '/w/tmp/x/disk.raw',
        action: code === 'EACCES' || code === 'EPERM' ? 'access' : 'write',
        doing: 'installing',
        place: 'work-dir',
      });
      expect(describeStepFailure(failure)).toContain(`installing: cannot `);
      expect(describeStepFailure(failure)).toContain(`/w/tmp/x/disk.raw`);
      expect(describeStepFailure(failure)).toContain(`(${code})`);
    },
  );

  test('the path to name can be given (not the temp file beside it)', () => {
    const failure = fsStepFailureOrRethrow(errno('ENOSPC', '/w/.state.tmp-1'), {
      doing: 'x',
      path: '/w/state.json',
    });
    expect(failure.path).toBe('/w/state.json');
  });

  test('a failed write names no file: the fallback path is named, never a bug', () => {
    // What fs.writeSync/appendFileSync throw on a full disk: code and syscall, no path.
    const write = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
    });
    const failure = fsStepFailureOrRethrow(write, { doing: 'customizing', fallbackPath: '/w' });
    expect(failure).toMatchObject({ kind: 'fs', code: 'ENOSPC', path: '/w' });
    expect(
      fsStepFailureOrRethrow(errno('EROFS', '/w/x'), { doing: 'x', fallbackPath: '/w' }).path,
    ).toBe('/w/x');
  });

  test('a bug is rethrown unchanged: TypeError, an unexpected ENOENT, a non-error', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(() => fsStepFailureOrRethrow(bug, { doing: 'customizing' })).toThrow(bug);
    const missing = errno('ENOENT', '/w/artifacts/install-os/disk.qcow2');
    expect(() => fsStepFailureOrRethrow(missing, { doing: 'customizing' })).toThrow(missing);
    expect(() => fsStepFailureOrRethrow('a string', { doing: 'customizing' })).toThrow();
  });
});
