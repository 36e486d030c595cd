// No import cycle in src/ (docs/architecture.md; `npx madge --circular` says the same, but
// it is not a dependency): every relative import of every module, type-only ones included,
// followed depth first. Fails naming the cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { repoPath } from '../../helpers/paths.js';

const SRC = repoPath('src');

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The modules `file` imports or re-exports from, by relative path (`.js` → `.ts`). */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const spec = m[1] ?? '';
    out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** The first cycle found, as module paths relative to src/, or undefined. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) !== undefined) continue;
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

describe('import cycles', () => {
  test('src/ has none', () => {
    const graph = new Map(
      modules(SRC).map((file) => [file, importsOf(file, readFileSync(file, 'utf8'))] as const),
    );
    expect(graph.size).toBeGreaterThan(100);
    const cycle = findCycle(graph)?.map((file) => relative(SRC, file));
    expect(cycle).toBeUndefined();
  });

  test('the check finds a cycle, type-only imports and re-exports included', () => {
    const a = '/x/src/plan/a.ts';
    const graph = new Map([
      [a, importsOf(a, "import { b } from './b.js';\n")],
      [
        '/x/src/plan/b.ts',
        importsOf('/x/src/plan/b.ts', "import type {\n  C,\n} from '../run/c.js';\n"),
      ],
      ['/x/src/run/c.ts', importsOf('/x/src/run/c.ts', "export { a } from '../plan/a.js';\n")],
    ]);
    expect(findCycle(graph)).toEqual([a, '/x/src/plan/b.ts', '/x/src/run/c.ts', a]);
    graph.set('/x/src/run/c.ts', []);
    expect(findCycle(graph)).toBeUndefined();
  });
});
