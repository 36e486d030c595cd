// `plan --json` output matches schemas/plan.schema.json (the documented contract).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { makeEngineRig, runFakeCli } from '../../helpers/engine-rig.js';
import { repoPath } from '../../helpers/paths.js';

describe('plan --json', () => {
  test('validates against schemas/plan.schema.json, before and after an apply', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(repoPath('schemas', 'plan.schema.json'), 'utf8')) as object,
    );
    const rig = makeEngineRig();
    const before = JSON.parse(runFakeCli(rig, ['plan', '--json', rig.recipe]).stdout) as unknown;
    expect(validate(before) ? [] : validate.errors).toEqual([]);
    expect(runFakeCli(rig, ['apply', rig.recipe, '--no-progress']).code).toBe(0);
    rig.editRecipe((t) => t.replace('packages: [less]', 'packages: [less, curl]'));
    const after = JSON.parse(runFakeCli(rig, ['plan', '--json', rig.recipe]).stdout) as {
      steps: { id: string; verdict: string; changes: unknown[] }[];
      summary: unknown;
    };
    expect(validate(after) ? [] : validate.errors).toEqual([]);
    expect(after.summary).toEqual({
      run: 15,
      upToDate: 2,
      blocked: 0,
      register: ['eki', 'eri', 'emi'],
    });
    expect(after.steps.find((s) => s.id === 'customize')?.changes).toEqual([
      { kind: 'setting', path: 'packages', old: ['less'], new: ['less', 'curl'] },
    ]);
  });
});
