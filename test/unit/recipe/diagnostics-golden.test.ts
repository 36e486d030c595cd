// Golden tests of the full printed diagnostics for a corpus of recipes: broken/*.yaml
// must fail with exactly the expected errors; warnings/*.yaml must load, with exactly
// the expected warnings. The expected text sits beside each file as .expected.
// After a deliberate wording change, or for a new recipe: UPDATE_GOLDEN=1 npm test, then
// review the diff. A recipe without its .expected file fails.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { loadRecipeBytes } from '../../../src/recipe/load-recipe.js';
import { formatDiagnostics } from '../../../src/cli/output/diagnostic-printer.js';
import { repoPath } from '../../helpers/paths.js';

const env = { EMI_TEST_USER: 'tester' };

function printed(
  dir: string,
  file: string,
): { text: string; loaded: ReturnType<typeof loadRecipeBytes> } {
  // Bytes, not text: a recipe that is not UTF-8 is one of the broken ones.
  const loaded = loadRecipeBytes(file, readFileSync(`${dir}/${file}`), {
    env,
    strictInputs: false,
    fileExists: () => false,
  });
  const source = loaded.text;
  // Absolute paths in messages depend on where the checkout is: show them relative.
  const text = formatDiagnostics(loaded.diagnostics, {
    sources: new Map([[file, source]]),
    color: false,
  }).replaceAll(process.cwd(), '<cwd>');
  return { text, loaded };
}

function checkGolden(dir: string, file: string, text: string): void {
  const goldenPath = `${dir}/${file.replace(/\.yaml$/, '.expected')}`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(goldenPath, text);
  // A missing golden fails (it is never written silently): run with UPDATE_GOLDEN=1 and review it.
  expect(
    existsSync(goldenPath) ? readFileSync(goldenPath, 'utf8') : `(missing ${goldenPath})`,
  ).toBe(text);
}

describe('broken recipe corpus', () => {
  const dir = repoPath('test', 'fixtures', 'recipes', 'broken');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  test('holds at least 30 recipes', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  test.each(files)('%s', (file) => {
    const { text, loaded } = printed(dir, file);
    expect(loaded.recipe).toBeUndefined();
    expect(loaded.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    checkGolden(dir, file, text);
  });
});

describe('recipes with warnings only', () => {
  const dir = repoPath('test', 'fixtures', 'recipes', 'warnings');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  test.each(files)('%s', (file) => {
    const { text, loaded } = printed(dir, file);
    expect(loaded.recipe).toBeDefined();
    expect(loaded.diagnostics.length).toBeGreaterThan(0);
    expect(loaded.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
    checkGolden(dir, file, text);
  });
});
