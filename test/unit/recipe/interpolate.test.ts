import { describe, expect, test } from '@jest/globals';
import { interpolate } from '../../../src/recipe/interpolate.js';

describe('interpolate', () => {
  const env = { HOME: '/root', EMPTY: '', SIZE: '5G' };

  test('replaces set variables and reports env use', () => {
    const r = interpolate('home=${env.HOME} size=${env.SIZE}', env);
    expect(r).toEqual({ value: 'home=/root size=5G', usedEnv: true, stepRefs: [], problems: [] });
  });

  test('uses the default when unset or empty, as the shell does', () => {
    expect(interpolate('${env.NOPE:-x}', env).value).toBe('x');
    expect(interpolate('${env.EMPTY:-y}', env).value).toBe('y');
    expect(interpolate('${env.NOPE:-}', env).value).toBe('');
  });

  test('a set but empty variable without default is empty, not an error', () => {
    expect(interpolate('[${env.EMPTY}]', env)).toMatchObject({ value: '[]', problems: [] });
  });

  test('an unset variable without default is a problem at its place', () => {
    const r = interpolate('a ${env.NOPE} b', env);
    expect(r.problems).toEqual([
      { message: expect.stringContaining('NOPE is not set') as unknown, index: 2, length: 11 },
    ]);
  });

  test('$${ is a literal ${', () => {
    expect(interpolate('echo $${HOME}', env)).toMatchObject({
      value: 'echo ${HOME}',
      problems: [],
      usedEnv: false,
    });
  });

  test('step references are kept and listed', () => {
    const r = interpolate('kernel ${steps.register-kernel.imageId}', env);
    expect(r.value).toBe('kernel ${steps.register-kernel.imageId}');
    expect(r.stepRefs).toEqual([
      { stepId: 'register-kernel', output: 'imageId', index: 7, length: 32 },
    ]);
  });

  test('unknown forms and unclosed placeholders are problems', () => {
    expect(interpolate('${host.name}', env).problems[0]?.message).toMatch(/unknown placeholder/);
    expect(interpolate('x ${env.HOME', env).problems[0]).toMatchObject({ index: 2, length: 2 });
  });
});
