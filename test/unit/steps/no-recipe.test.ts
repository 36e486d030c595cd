// Steps read their params (and the settings cli/step-kind-options.ts derives once), never
// the whole Recipe: no file of src/steps/ imports recipe/model.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import { repoPath } from '../../helpers/paths.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

test('no step imports the Recipe model', () => {
  const files = tsFiles(repoPath('src/steps'));
  expect(files.length).toBeGreaterThan(10);
  const importing = files.filter((file) =>
    /from\s+['"](\.\.\/)+recipe\/model\.js['"]/.test(readFileSync(file, 'utf8')),
  );
  expect(importing).toEqual([]);
});
