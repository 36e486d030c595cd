// Gathers what the planner reads: input digests, tool versions, the state of recorded
// artifacts and interrupted steps. Reads files and may run `tool --version` (cached in
// the state by binary identity); never writes. Shared by `plan` and `apply`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../tools/exec.js';
import { findOnPath, packageOf, readToolVersion } from '../tools/tool-version.js';
import type { StepGraph } from '../plan/graph.js';
import type { PlanFacts } from '../plan/plan.js';
import type { HostFacts, StepKinds } from '../plan/step.js';
import { identifyFile, sameStat, statIdentity } from './file-identity.js';
import { partialDir, stepDir } from './layout.js';
import { knownByMemo, readMemo } from './artifact-memo.js';
import type { FileIdentity, State, StepRecord, ToolRecord } from './state.js';

export interface InspectOptions {
  readonly graph: StepGraph;
  readonly state: State;
  readonly workDir: string;
  /** The kind of each step, bound to its params, by step id. */
  readonly kinds: StepKinds;
  readonly exec: Exec;
  readonly signal: AbortSignal;
  readonly host: HostFacts;
  readonly forced?: ReadonlySet<string>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Also ask each completed step's kind whether its remote effects still hold (network). */
  readonly refresh?: boolean;
  /**
   * The state comes from a shared store (other machines write it): a recorded step whose
   * artifact directory is absent here is "up to date elsewhere", not "outputs missing".
   */
  readonly sharedState?: boolean;
}

export interface Inspection {
  readonly facts: PlanFacts;
  /** Updated caches, for apply to store (plan discards them). */
  readonly files: Readonly<Record<string, FileIdentity>>;
  readonly tools: Readonly<Record<string, ToolRecord>>;
}

/** What is wrong with a recorded step's artifacts (missing or modified), if anything. */
export async function checkArtifacts(
  workDir: string,
  stepId: string,
  record: StepRecord,
): Promise<string | undefined> {
  const status = await artifactStatus(workDir, stepId, record);
  return status.modified ?? status.missing[0];
}

/**
 * Which of a recorded step's artifacts are missing here (each said in a sentence), and
 * the first that is here but not the recorded one. A file whose stat is not the record's
 * (written on another machine, or downloaded) is the recorded one when this work
 * directory's memo (artifact-memo.ts) knows it with that digest.
 */
export async function artifactStatus(
  workDir: string,
  stepId: string,
  record: StepRecord,
): Promise<{ readonly missing: readonly string[]; readonly modified?: string }> {
  const missing: string[] = [];
  let memo: Awaited<ReturnType<typeof readMemo>> | undefined;
  for (const [name, artifact] of Object.entries(record.artifacts)) {
    const path = join(stepDir(workDir, stepId), artifact.file);
    const current = await statIdentity(path);
    if (!current) {
      missing.push(`artifact ${name} (${artifact.file}) is missing`);
      continue;
    }
    if (sameStat(current, artifact)) continue;
    memo ??= await readMemo(workDir, stepId);
    if (await knownByMemo(memo, path, artifact)) continue;
    return {
      missing,
      modified: `artifact ${name} (${artifact.file}) was modified after it was made`,
    };
  }
  return { missing };
}

/** Version of every tool, re-using cached versions while the binary is unchanged. */
export async function inspectTools(
  names: Iterable<string>,
  cache: Readonly<Record<string, ToolRecord>>,
  options: { exec: Exec; signal: AbortSignal; path?: string },
): Promise<{ versions: Map<string, string | undefined>; cache: Record<string, ToolRecord> }> {
  const versions = new Map<string, string | undefined>();
  const updated: Record<string, ToolRecord> = { ...cache };
  for (const name of names) {
    const binary = await findOnPath(name, options.path);
    if (!binary) {
      versions.set(name, undefined);
      continue;
    }
    const id = await statIdentity(binary);
    const cached = cache[binary];
    if (id && cached && cached.size === id.size && cached.mtimeMs === id.mtimeMs) {
      versions.set(name, cached.version);
      continue;
    }
    const version = await readToolVersion(name, binary, options.exec, options.signal);
    versions.set(name, version);
    if (id && version !== undefined)
      updated[binary] = { size: id.size, mtimeMs: id.mtimeMs, version };
  }
  return { versions, cache: updated };
}

/** Gathers the planner's facts for the graph. */
export async function inspect(options: InspectOptions): Promise<Inspection> {
  const { graph, state, workDir } = options;
  const files: Record<string, FileIdentity> = { ...state.files };
  const inputDigests = new Map<string, string | undefined>();
  for (const step of graph.steps) {
    for (const input of step.inputs) {
      if (inputDigests.has(input.path)) continue;
      const identity = await identifyFile(input.path, state.files[input.path], options.signal);
      inputDigests.set(input.path, identity?.sha256);
      if (identity) files[input.path] = identity;
    }
  }
  const toolNames = new Set<string>();
  for (const step of graph.steps)
    for (const tool of options.kinds.get(step.id)?.tools ?? []) toolNames.add(tool);
  const tools = await inspectTools([...toolNames].sort(), state.tools, {
    exec: options.exec,
    signal: options.signal,
    ...(options.env?.PATH !== undefined ? { path: options.env.PATH } : {}),
  });
  const artifactProblems = new Map<string, string>();
  const interrupted = new Set<string>();
  const elsewhere = new Set<string>();
  for (const step of graph.steps) {
    const record = state.steps[step.id];
    if (record) {
      // With a shared store, files another machine made (or that are partly downloaded
      // here) are "elsewhere": fetched from the step cache when a step that runs reads them.
      const status = await artifactStatus(workDir, step.id, record);
      let problem = status.modified;
      if (problem === undefined && status.missing.length > 0) {
        if (options.sharedState === true) elsewhere.add(step.id);
        else problem = status.missing[0];
      }
      const kind = options.kinds.get(step.id);
      if (problem === undefined && options.refresh === true && kind?.verify) {
        problem = await kind.verify(record.values, options.signal);
      }
      if (problem !== undefined) artifactProblems.set(step.id, problem);
    } else if (existsSync(partialDir(workDir, step.id))) {
      interrupted.add(step.id);
    }
  }
  return {
    facts: {
      graph,
      records: state.steps,
      inputDigests,
      toolVersions: tools.versions,
      artifactProblems,
      interrupted,
      kinds: options.kinds,
      host: options.host,
      packageOf,
      ...(options.forced ? { forced: options.forced } : {}),
      ...(elsewhere.size > 0 ? { elsewhere } : {}),
    },
    files,
    tools: tools.cache,
  };
}
