// The layering rule (eslint.layers.config.js) bites: an import that breaks the layering is
// a lint error in the folder that makes it, an allowed one is not, and eslint.config.js
// uses the rule for every folder of src/.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import eslintConfig from '../../../eslint.config.js';
import { LAYERS, layerConfigs } from '../../../eslint.layers.config.js';
import { repoPath } from '../../helpers/paths.js';

async function lintImport(file: string, specifier: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: repoPath(),
    overrideConfigFile: true,
    overrideConfig: [{ languageOptions: { parser: tseslint.parser } }, ...layerConfigs()],
  });
  const [result] = await eslint.lintText(`import { x } from '${specifier}';\nexport { x };\n`, {
    filePath: repoPath(file),
  });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('layering of src/', () => {
  test('every folder of src/ has its layer', () => {
    const folders = readdirSync(repoPath('src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(Object.keys(LAYERS).sort()).toEqual(folders);
  });

  test.each([
    ['src/recipe/probe.ts', '../run/lock.js'],
    ['src/core/probe.ts', '../tools/exec.js'],
    ['src/plan/probe.ts', '../steps/registry.js'],
    ['src/guest/answers/probe.ts', '../../cli/main.js'],
    ['src/guest/probe.ts', '../plan/step.js'],
    ['src/guest/probe.ts', '../recipe/model.js'],
    ['src/guest/answers/probe.ts', '../../tools/debootstrap.js'],
    ['src/vm/probe.ts', '../steps/upstream.js'],
    ['src/bundle/probe.ts', '../local-cloud/server.js'],
    ['src/run/probe.ts', '../store/s3-store.js'],
    ['src/store/probe.ts', '../steps/registry.js'],
  ])('%s may not import %s', async (file, specifier) => {
    const messages = await lintImport(file, specifier);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^no-restricted-imports: .*may import only/);
  });

  test.each([
    ['src/recipe/probe.ts', '../core/result.js'],
    ['src/recipe/probe.ts', '../guest/spec.js'],
    ['src/steps/probe.ts', '../plan/step.js'],
    ['src/steps/probe.ts', '../guest/rc-local.js'],
    ['src/vm/probe.ts', '../guest/iso-layout.js'],
    ['src/guest/answers/probe.ts', '../../core/result.js'],
    ['src/cli/commands/probe.ts', '../../steps/registry.js'],
    ['src/store/probe.ts', '../run/store.js'],
    ['src/cli/commands/probe.ts', '../../store/open-store.js'],
  ])('%s may import %s', async (file, specifier) => {
    expect(await lintImport(file, specifier)).toEqual([]);
  });

  test('eslint.config.js applies the rule', () => {
    const recipeRule = (
      eslintConfig as { files?: string[]; rules?: Record<string, unknown> }[]
    ).find((c) => c.files?.includes('src/recipe/**/*.ts') === true)?.rules?.[
      'no-restricted-imports'
    ];
    expect(recipeRule).toBeDefined();
    expect(recipeRule).not.toBe('off');
  });
});
