// docs/recipe.md must document every key the schema declares, and nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { readRecipeSchema } from '../../../src/recipe/schema.js';
import { schemaPropertyPaths } from '../../helpers/schema-paths.js';
import { repoPath } from '../../helpers/paths.js';

const doc = readFileSync(repoPath('docs', 'recipe.md'), 'utf8');
const schemaPaths = schemaPropertyPaths(readRecipeSchema());
/** Keys in the first column of the reference tables: "| `install.iso.path` |". */
const documented = [...doc.matchAll(/^\|\s*`([a-zA-Z][\w.[\]]*)`\s*\|/gm)].map((m) => m[1] ?? '');

describe('docs/recipe.md', () => {
  test.each(schemaPaths)('documents %s', (path) => {
    expect(documented).toContain(path);
  });

  test('documents no key the schema does not have', () => {
    expect(documented.filter((p) => !schemaPaths.includes(p))).toEqual([]);
  });
});

describe('schema', () => {
  test('every property has a description and examples', () => {
    const missing: string[] = [];
    const defs = readRecipeSchema().$defs as Record<string, Record<string, unknown>>;
    const visit = (schema: Record<string, unknown>, path: string): void => {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, child] of Object.entries(properties)) {
        const full = path ? `${path}.${name}` : name;
        const ref =
          typeof child.$ref === 'string' ? defs[child.$ref.replace('#/$defs/', '')] : undefined;
        if (typeof child.description !== 'string') missing.push(`${full}: description`);
        if (!Array.isArray(child.examples) && !Array.isArray(ref?.examples))
          missing.push(`${full}: examples`);
        visit(ref ? { ...ref, ...child } : child, full);
        const items = (child.items ?? ref?.items) as Record<string, unknown> | undefined;
        if (items) {
          const itemRef =
            typeof items.$ref === 'string' ? defs[items.$ref.replace('#/$defs/', '')] : items;
          if (itemRef) visit(itemRef, `${full}[]`);
        }
      }
    };
    visit(readRecipeSchema(), '');
    expect(missing).toEqual([]);
  });
});
