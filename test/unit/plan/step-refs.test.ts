// ${steps.<id>.<output>} resolution reads a step's own outputs only.
import { describe, expect, test } from '@jest/globals';
import { resolveStepRefs } from '../../../src/plan/step-refs.js';

describe('resolveStepRefs', () => {
  const outputs = (step: string) =>
    step === 'install-os' ? { kernelVersion: '6.1.0' } : undefined;

  test('an own output is filled in', () => {
    expect(resolveStepRefs('v=${steps.install-os.kernelVersion}', outputs)).toEqual({
      ok: true,
      value: 'v=6.1.0',
    });
  });

  test.each(['constructor', 'toString', 'hasOwnProperty'])(
    'an object member (%s) is a missing output, not Object.prototype’s',
    (name) => {
      expect(resolveStepRefs(`\${steps.install-os.${name}}`, outputs)).toEqual({
        ok: false,
        error: { step: 'install-os', output: name, available: ['kernelVersion'] },
      });
    },
  );

  test('fills strings at any depth in a copy, leaving the params and their other values as they were', () => {
    const params = Object.freeze({
      users: [Object.freeze({ name: 'k-${steps.install-os.kernelVersion}', uid: 7, sudo: true })],
      lines: ['a', '${steps.install-os.kernelVersion}'],
      mirror: null,
    });
    expect(resolveStepRefs(params, outputs)).toEqual({
      ok: true,
      value: {
        users: [{ name: 'k-6.1.0', uid: 7, sudo: true }],
        lines: ['a', '6.1.0'],
        mirror: null,
      },
    });
    expect(params.users[0]?.name).toBe('k-${steps.install-os.kernelVersion}');
    expect(params.lines[1]).toBe('${steps.install-os.kernelVersion}');
  });
});
