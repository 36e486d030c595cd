// The debootstrap install: the command its plan shows is the one its run passes to
// debootstrap (both built by install-debootstrap-commands.ts). The run gets a fake host
// (root, a namespace whose exec records argv and fails debootstrap), so no process starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { err } from '../../../src/core/result.js';
import type { StepId, StepRunContext } from '../../../src/plan/step.js';
import type { DebootstrapInstallParams } from '../../../src/plan/step-params.js';
import { describeDebootstrap } from '../../../src/steps/install-debootstrap-describe.js';
import { installDebootstrap } from '../../../src/steps/install-debootstrap.js';
import { planCommand } from '../../../src/steps/plan-command.js';
import type { Exec } from '../../../src/tools/exec.js';
import type { Sandbox } from '../../../src/tools/namespace.js';
import { coreShare } from '../../../src/core/core-share.js';

const root = mkdtempSync(join(tmpdir(), 'emi-unit-debootstrap-'));
const saved = {
  cache: process.env.EMI_RECIPE_CACHE_DIR,
  off: process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE,
};
beforeAll(() => {
  process.env.EMI_RECIPE_CACHE_DIR = join(root, 'cache');
  delete process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE;
});
afterAll(() => {
  if (saved.cache === undefined) delete process.env.EMI_RECIPE_CACHE_DIR;
  else process.env.EMI_RECIPE_CACHE_DIR = saved.cache;
  if (saved.off === undefined) delete process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE;
  else process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE = saved.off;
  rmSync(root, { recursive: true, force: true });
});

const base: DebootstrapInstallParams = {
  source: 'debootstrap',
  arch: 'x86_64',
  suite: 'bookworm',
  variant: 'minbase',
  components: ['main'],
  mirror: 'http://deb.debian.org/debian',
  kernelPackage: 'linux-image-cloud-amd64',
  packages: ['curl', 'linux-image-cloud-amd64', 'openssh-server'],
  locale: 'C.UTF-8',
  timezone: 'UTC',
  diskSizeBytes: 2 ** 30,
  diskFormat: 'qcow2',
};

/** Runs the install with a fake host until debootstrap (which fails); returns its argv and the log. */
async function runUntilDebootstrap(
  params: DebootstrapInstallParams,
  name: string,
): Promise<{ args: readonly string[]; log: string[]; workDir: string }> {
  const workDir = join(root, name);
  const calls: { file: string; args: readonly string[] }[] = [];
  const exec: Exec = (file, args) => {
    calls.push({ file, args });
    return Promise.resolve(
      err({
        reason: 'exit-non-zero',
        exitCode: 1,
        file,
        command: file,
        stderrTail: ['E: fake debootstrap'],
        stdoutTail: [],
      }),
    );
  };
  const sandbox: Sandbox = {
    exec,
    hostPath: (path) => path,
    mounts: () => Promise.resolve(''),
    killInside: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
  const log: string[] = [];
  const ctx: StepRunContext<DebootstrapInstallParams> = {
    signal: new AbortController().signal,
    log: (line) => log.push(line),
    progress: () => undefined,
    step: {
      id: 'install-os' as StepId,
      kind: 'install-os',
      needs: ['create-disk' as StepId],
      section: [],
      params,
      inputs: [],
    },
    workDir,
    outDir: join(workDir, 'out'),
    needs: new Map([
      [
        'create-disk' as StepId,
        {
          artifacts: { disk: 'disk.qcow2' },
          values: { format: 'qcow2', sizeBytes: params.diskSizeBytes },
          dir: join(workDir, 'create-disk'),
        },
      ],
    ]),
    secrets: new Map(),
    exec: () => Promise.reject(new Error('the install ran a host program outside its namespace')),
    accel: () => Promise.resolve('tcg'),
    cores: coreShare(2),
  };
  const r = await installDebootstrap(ctx, {
    isRoot: () => true,
    openSandbox: () => Promise.resolve({ ok: true, value: sandbox }),
  });
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toMatchObject({ kind: 'tool', exitCode: 1 });
  expect(calls.map((c) => c.file)).toEqual(['debootstrap']);
  return { args: calls[0]?.args ?? [], log, workDir };
}

/** The run's argv with its run-time places put back as the plan's placeholders. */
function asPlanned(
  run: { args: readonly string[]; log: string[]; workDir: string },
  params: DebootstrapInstallParams,
): string {
  const chosen = run.log.find((l) => l.startsWith('mirror: '))?.slice('mirror: '.length);
  const tmp = new RegExp(`^${join(run.workDir, 'tmp')}/install-os-[^/]+`);
  const args = run.args.map((a) =>
    a
      .replace(tmp, '<tmp>')
      .replace(`=${join(root, 'cache')}/`, '=<cache>/')
      .replace(/^.*$/, (whole) =>
        params.mirror === null && whole === chosen ? '<mirror>' : whole,
      ),
  );
  return planCommand('debootstrap', args);
}

describe('debootstrap install: plan and run agree', () => {
  const cases: [string, DebootstrapInstallParams][] = [
    ['minbase with a mirror, the kernel listed twice', base],
    [
      'default variant, i386, two components, no extra packages, raw disk',
      {
        ...base,
        arch: 'i386',
        variant: 'default',
        components: ['main', 'contrib'],
        kernelPackage: 'linux-image-686',
        packages: [],
        diskFormat: 'raw',
      },
    ],
    [
      'buildd, Ubuntu suite, pinned package versions',
      {
        ...base,
        suite: 'noble',
        variant: 'buildd',
        mirror: 'http://archive.ubuntu.com/ubuntu',
        components: ['main', 'universe'],
        kernelPackage: 'linux-image-virtual',
        packages: ['curl=8.5.0-2ubuntu10', 'cloud-init'],
      },
    ],
  ];
  test.each(cases)('%s', async (name, params) => {
    const run = await runUntilDebootstrap(params, name.replace(/\W+/g, '-'));
    expect(asPlanned(run, params)).toBe(describeDebootstrap(params).commands[0]);
  });

  test("no mirror in the recipe: the plan's <mirror> is the one the run picks (or none)", async () => {
    const params = { ...base, mirror: null };
    const run = await runUntilDebootstrap(params, 'no-mirror');
    const planned = describeDebootstrap(params).commands[0] ?? '';
    const chosen = run.log.find((l) => l.startsWith('mirror: '));
    // Without a host source for the suite the run leaves the mirror to debootstrap.
    const expected =
      chosen === "mirror: debootstrap's default" ? planned.replace(/ <mirror>$/, '') : planned;
    expect(asPlanned(run, params)).toBe(expected);
  });

  test('the plan shows the cache directory the run uses, per suite and architecture', () => {
    expect(describeDebootstrap(base).commands[0]).toContain(
      '--cache-dir=<cache>/debootstrap/bookworm-x86_64 ',
    );
    expect(describeDebootstrap(base).commands[0]).toContain(
      '--include=linux-image-cloud-amd64,curl,openssh-server ',
    );
  });
});
