// A temp directory with a copy of the engine demo recipe and a fake-kinds config, and
// helpers to run the fake CLI as a process (spawned with tsx) or in-process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from './paths.js';
import { scrubbedEnv } from './run-cli.js';
import type { FakeConfig } from './fake-kinds.js';

export interface EngineRig {
  readonly dir: string;
  readonly recipe: string;
  readonly workDir: string;
  readonly configPath: string;
  setConfig(config: Partial<FakeConfig>): void;
  editRecipe(edit: (text: string) => string): void;
  journal(): { time: number; pid: number; event: string; id: string }[];
  registry(): { key: string; imageId: string }[];
  env(): Record<string, string>;
}

export function makeEngineRig(): EngineRig {
  const dir = mkdtempSync(join(tmpdir(), 'emi-engine-'));
  cpSync(repoPath('test', 'fixtures', 'recipes', 'engine'), dir, { recursive: true });
  const recipe = join(dir, 'demo.yaml');
  const configPath = join(dir, 'fake-config.json');
  const base: FakeConfig = {
    journal: join(dir, 'journal.log'),
    registry: join(dir, 'registry.jsonl'),
  };
  const rig: EngineRig = {
    dir,
    recipe,
    workDir: join(dir, '.emi-recipe', 'engine-demo'),
    configPath,
    setConfig: (config) => {
      writeFileSync(configPath, JSON.stringify({ ...base, ...config }));
    },
    editRecipe: (edit) => {
      writeFileSync(recipe, edit(readFileSync(recipe, 'utf8')));
    },
    journal: () =>
      existsSync(base.journal)
        ? readFileSync(base.journal, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => {
              const [time, pid, event, id] = line.split(' ');
              return { time: Number(time), pid: Number(pid), event: event ?? '', id: id ?? '' };
            })
        : [],
    registry: () =>
      existsSync(base.registry)
        ? readFileSync(base.registry, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { key: string; imageId: string })
        : [],
    env: () => scrubbedEnv({ EMI_FAKE_CONFIG: configPath }),
  };
  rig.setConfig({});
  return rig;
}

const TSX = repoPath('node_modules', 'tsx', 'dist', 'loader.mjs');
const FAKE_CLI = repoPath('test', 'helpers', 'fake-cli.ts');

/** Runs the fake CLI to completion. */
export function runFakeCli(
  rig: EngineRig,
  args: readonly string[],
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, FAKE_CLI, ...args], {
    cwd: rig.dir,
    env: rig.env(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the fake CLI; the caller kills or awaits it. */
export function startFakeCli(
  rig: EngineRig,
  args: readonly string[],
): {
  child: ChildProcess;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
} {
  const child = spawn(process.execPath, ['--import', TSX, FAKE_CLI, ...args], {
    cwd: rig.dir,
    env: rig.env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}
