// install-os never reads customize: changing customize leaves its params (and so its
// fingerprint) unchanged, for both install sources.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { repoPath } from '../../helpers/paths.js';

function installParams(text: string, file: string): unknown {
  const loaded = loadRecipeText(file, text, {
    env: { UBUNTU_ISO: '/nonexistent.iso' },
    strictInputs: false,
  });
  if (!loaded.recipe) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  return defaultGraphInput(loaded.recipe).steps.find((s) => s.id === 'install-os')?.params;
}

describe('install-os params hold nothing from customize', () => {
  test.each(['debian-minimal.yaml', 'ubuntu-mediawiki.yaml'])('%s', (name) => {
    const file = repoPath('recipes', name);
    const text = readFileSync(file, 'utf8');
    const changed = text
      .replace(/^ {2}packages: \[[^\]]*\]/m, '  packages: [vim, htop]')
      .replace(/- name: (\w+)\n(\s+)groups: \[sudo\]/, '- name: $1\n$2groups: [adm]');
    expect(changed).not.toBe(text);
    expect(installParams(changed, file)).toEqual(installParams(text, file));
  });
});
