// Figures of the source tree's shape, for the redesign's before/after: `as unknown as` casts,
// catch clauses in steps that do not rethrow (catch-alls), files over 300 lines and functions
// over 100 lines. Usage: npx tsx scripts/house-figures.ts [src-dir] [--list]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const list = args.includes('--list');
const root = args.find((a) => !a.startsWith('--')) ?? 'src';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const casts: string[] = [];
const catchAlls: string[] = [];
const longFiles: string[] = [];
const longFunctions: string[] = [];
for (const path of files(root)) {
  const text = readFileSync(path, 'utf8');
  const name = relative(root, path);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > 300) longFiles.push(`${name} (${lines})`);
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number): number => source.getLineAndCharacterOfPosition(pos).line + 1;
  const inSteps = /^(steps|vm)\//.test(name);
  const visit = (node: ts.Node): void => {
    if (
      ts.isAsExpression(node) &&
      ts.isAsExpression(node.expression) &&
      node.expression.type.kind === ts.SyntaxKind.UnknownKeyword
    )
      casts.push(`${name}:${lineOf(node.getStart())}`);
    if (inSteps && ts.isCatchClause(node)) {
      const rethrows = (n: ts.Node): boolean =>
        ts.isThrowStatement(n) ||
        (!ts.isFunctionLike(n) &&
          ts.forEachChild(n, (c) => (rethrows(c) ? true : undefined)) === true);
      if (!rethrows(node.block)) catchAlls.push(`${name}:${lineOf(node.getStart())}`);
    }
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const body = node.body as ts.Node;
      const span = lineOf(body.getEnd()) - lineOf(node.getStart()) + 1;
      if (span > 100) {
        const label = node.name?.getText() ?? ts.SyntaxKind[node.kind];
        longFunctions.push(`${name}:${lineOf(node.getStart())} ${label} (${span})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

const show = (title: string, items: readonly string[]): void => {
  console.log(`${title}: ${items.length}`);
  if (list) for (const item of items) console.log(`  ${item}`);
};
show('`as unknown as` casts', casts);
show('catch clauses in steps/ and vm/ that do not rethrow', catchAlls);
show('files over 300 lines', longFiles);
show('functions over 100 lines', longFunctions);
