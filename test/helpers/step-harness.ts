// Runs build step kinds directly, the way the runner will: a temp outDir per step,
// renamed into place on success, needs from earlier steps' outputs, logs collected.
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadRecipe } from '../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../src/plan/default-graph.js';
import { buildGraph } from '../../src/plan/graph.js';
import type { StepFailure, StepKind, StepOutputs, StepSpec, StepId } from '../../src/plan/step.js';
import type { BuiltinKind, BuiltinStepSpec } from '../../src/plan/step-params.js';
import type { Result } from '../../src/core/result.js';
import { customize } from '../../src/steps/customize.js';
import { exec } from '../../src/tools/exec.js';
import { probeAccel } from '../../src/tools/qemu-accel.js';
import { quietTask } from '../../src/core/task.js';
import { availableParallelism } from 'node:os';
import { coreShare } from '../../src/core/core-share.js';

export type Finished = StepOutputs & { readonly dir: string };

/** A build in a work dir: steps run one by one, outputs kept for their dependents. */
export class StepHarness {
  readonly workDir: string;
  readonly outputs = new Map<StepId, Finished>();
  readonly logs = new Map<string, string[]>();
  /** Keep a failed step's outDir (listed in failedOutDirs) instead of removing it. */
  keepFailed = false;
  readonly failedOutDirs = new Map<string, string>();
  #accel: 'kvm' | 'tcg' | undefined;
  /** The host's cores, shared by the steps this harness runs (as one run's are). */
  readonly cores = coreShare(availableParallelism());

  constructor(workDir: string, accel?: 'kvm' | 'tcg') {
    this.workDir = workDir;
    this.#accel = accel;
  }

  /** Runs `kind` on `spec`; on success the output dir moves to <workDir>/steps/<id>. */
  async run<P, K extends string>(
    kind: StepKind<P, K>,
    spec: StepSpec<P, NoInfer<K>>,
    signal = new AbortController().signal,
  ): Promise<Result<Finished, StepFailure>> {
    const stepsDir = join(this.workDir, 'steps');
    await mkdir(stepsDir, { recursive: true });
    const outDir = await mkdtemp(join(stepsDir, `.${spec.id}.tmp-`));
    const lines: string[] = [];
    this.logs.set(spec.id, lines);
    const needs = new Map<StepId, Finished>();
    for (const id of spec.needs) {
      const o = this.outputs.get(id);
      if (o) needs.set(id, o);
    }
    await mkdir(join(this.workDir, 'logs'), { recursive: true });
    const logPath = join(this.workDir, 'logs', `${spec.id}.log`);
    const r = await kind.run({
      signal,
      log: (line) => {
        lines.push(line);
        appendFileSync(logPath, `${line}\n`);
      },
      progress: () => undefined,
      step: spec,
      workDir: this.workDir,
      outDir,
      needs,
      secrets: new Map(),
      exec,
      accel: async () => {
        this.#accel ??= (await probeAccel(exec, quietTask(signal))).accel;
        return this.#accel;
      },
      cores: this.cores,
    });
    if (!r.ok) {
      // As the runner does, a failed step's output folder can be kept (its logs, a console).
      if (this.keepFailed) this.failedOutDirs.set(spec.id, outDir);
      else await rm(outDir, { recursive: true, force: true });
      return r;
    }
    const dir = join(stepsDir, spec.id);
    await rm(dir, { recursive: true, force: true });
    await rename(outDir, dir);
    const finished = { ...r.value, dir };
    this.outputs.set(spec.id, finished);
    return { ok: true, value: finished };
  }
}

/** The StepSpecs of a recipe file's default graph, by id. */
export async function recipeSteps(
  file: string,
  env: Record<string, string | undefined> = {},
): Promise<Map<string, BuiltinStepSpec>> {
  const loaded = await loadRecipe(file, { env, strictInputs: true });
  if (!loaded.ok) throw new Error(`cannot read ${file}`);
  const recipe = loaded.value.recipe;
  if (!recipe)
    throw new Error(
      `invalid recipe ${file}: ${loaded.value.diagnostics.map((d) => d.message).join('; ')}`,
    );
  const { graph, diagnostics } = buildGraph(defaultGraphInput(recipe));
  if (!graph) throw new Error(diagnostics.map((d) => d.message).join('; '));
  return new Map(graph.steps.map((s) => [s.id, s]));
}

/** Step `id` of `specs`, which must be of kind `kind` (then its params are that kind's). */
export function stepOf<K extends BuiltinKind>(
  specs: ReadonlyMap<string, BuiltinStepSpec>,
  id: string,
  kind: K,
): BuiltinStepSpec<K> {
  const step = specs.get(id);
  if (step === undefined || !isOfKind(step, kind))
    throw new Error(`the graph has no ${kind} step ${id}`);
  return step;
}

function isOfKind<K extends BuiltinKind>(
  step: BuiltinStepSpec | BuiltinStepSpec<K>,
  kind: K,
): step is BuiltinStepSpec<K> {
  return step.kind === kind;
}

/** A temp work dir under the system temp dir. */
export function tempWorkDir(prefix: string): Promise<string> {
  return mkdtemp(join(process.env.TMPDIR ?? '/tmp', `emi-${prefix}-`));
}

/**
 * Runs the customize step of a debootstrap recipe named `name` whose customize runs
 * `commands`, on `disk` (a file in `dir`) as install-os's output, in a work dir below `dir`.
 */
export async function customizeDisk(o: {
  readonly dir: string;
  readonly name: string;
  readonly commands: readonly string[];
  readonly disk: string;
  readonly format: 'raw' | 'qcow2';
  /** The disk's virtual size (default: the file's size, right for raw). */
  readonly sizeBytes?: number;
}): Promise<{ r: Result<Finished, StepFailure>; log: string[] }> {
  const recipe = join(o.dir, 'recipe.yaml');
  writeFileSync(
    recipe,
    [
      `name: ${o.name}`,
      'disk: { size: 1G }',
      'install:',
      '  debootstrap: { suite: bookworm }',
      'customize:',
      `  commands: ${JSON.stringify(o.commands)}`,
      '',
    ].join('\n'),
  );
  const specs = await recipeSteps(recipe);
  const h = new StepHarness(join(o.dir, 'work'));
  h.outputs.set('install-os' as StepId, {
    artifacts: { disk: basename(o.disk) },
    values: { format: o.format, sizeBytes: o.sizeBytes ?? statSync(o.disk).size },
    dir: o.dir,
  });
  const r = await h.run(customize, stepOf(specs, 'customize', 'customize'));
  return { r, log: h.logs.get('customize') ?? [] };
}
