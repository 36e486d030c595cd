// Every recipe in recipes/ and examples/ is valid (warnings about machine inputs allowed).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { repoPath } from '../../helpers/paths.js';

const files = ['recipes', 'examples'].flatMap((dir) =>
  readdirSync(repoPath(dir))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `${dir}/${f}`),
);

describe('shipped recipes', () => {
  test('exist', () => {
    expect(files).toEqual(
      expect.arrayContaining(['recipes/debian-minimal.yaml', 'recipes/ubuntu-mediawiki.yaml']),
    );
  });

  test.each(files)('%s is valid', (file) => {
    const loaded = loadRecipeText(repoPath(file), readFileSync(repoPath(file), 'utf8'), {
      env: {},
      strictInputs: false,
    });
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(loaded.recipe).toBeDefined();
  });

  test('debian-minimal needs nothing from this machine', () => {
    const file = repoPath('recipes/debian-minimal.yaml');
    const loaded = loadRecipeText(file, readFileSync(file, 'utf8'), {
      env: {},
      strictInputs: true,
    });
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.recipe?.test.boot).toBe(true);
    expect(loaded.recipe?.customize.rcLocal?.metadataSshKey?.user).toBe('debian');
  });
});
