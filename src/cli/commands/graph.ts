// `emi-recipe graph`: the step graph as text (indented by depth) or Graphviz dot.
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';
import type { StepGraph } from '../../plan/graph.js';
import { openSession } from './session.js';

/** The graph in Graphviz's dot language (stable order). */
export function graphToDot(graph: StepGraph, name: string): string {
  const lines = [
    `digraph "${name}" {`,
    '  rankdir=LR;',
    '  node [shape=box, fontname="monospace"];',
  ];
  for (const step of graph.steps)
    lines.push(`  "${step.id}" [label="${step.id}\\n(${step.kind})"];`);
  for (const step of graph.steps)
    for (const need of step.needs) lines.push(`  "${need}" -> "${step.id}";`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The graph as text: each step with its needs, in run order. */
export function graphToText(graph: StepGraph): string {
  const width = Math.max(...graph.steps.map((s) => s.id.length));
  return (
    graph.steps
      .map((s) =>
        `${s.id.padEnd(width)}  ${s.kind.padEnd(16)} ${s.needs.length > 0 ? `<- ${s.needs.join(', ')}` : ''}`.trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export async function runGraphCommand(
  recipeFile: string,
  options: { format: 'text' | 'dot' },
  deps: { terminal: Terminal; env: Readonly<Record<string, string | undefined>> },
): Promise<ExitCode> {
  const { session, exit } = await openSession(recipeFile, {
    env: deps.env,
    strictInputs: false,
    terminal: deps.terminal,
  });
  if (!session) return exit ?? EXIT.usage;
  deps.terminal.out(
    options.format === 'dot'
      ? graphToDot(session.graph, session.recipe.name)
      : graphToText(session.graph),
  );
  return EXIT.ok;
}
