// Each step that used to turn every exception into "io-error: check free space" now
// catches only what it expects. A full disk met mid-step (here: thrown by the injected
// exec, standing in for any awaited write) is a failure of kind fs naming the path and
// what the step was doing; a bug (a TypeError) leaves run() as a rejection, for the
// runner's internal-error path. No processes: exec is a fake.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ok, type Result } from '../../../src/core/result.js';
import type {
  StepFailure,
  StepId,
  StepKind,
  StepOutputs,
  StepRunContext,
  StepSpec,
} from '../../../src/plan/step.js';
import type {
  CustomizeParams,
  DebootstrapInstallParams,
  IsoInstallParams,
} from '../../../src/plan/step-params.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';
import { customize } from '../../../src/steps/customize.js';
import { extractKernelKind } from '../../../src/steps/extract-boot.js';
import { extractRootfs } from '../../../src/steps/extract-rootfs.js';
import { installDebootstrap } from '../../../src/steps/install-debootstrap.js';
import { installIso } from '../../../src/steps/install-iso.js';
import { downloadIso, networkCause } from '../../../src/steps/iso-download.js';
import type { Exec } from '../../../src/tools/exec.js';
import { coreShare } from '../../../src/core/core-share.js';

const dirs: string[] = [];
const savedDebCache = process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE;
beforeAll(() => {
  process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE = 'off'; // no .deb cache in the user's ~/.cache
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (savedDebCache === undefined) delete process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE;
  else process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE = savedDebCache;
});

const FULL_DISK_PATH = '/w/artifacts/x.partial/disk.raw';
const fullDisk = (): NodeJS.ErrnoException =>
  Object.assign(new Error(`ENOSPC: no space left on device, write '${FULL_DISK_PATH}'`), {
    code: 'ENOSPC',
    syscall: 'write',
    path: FULL_DISK_PATH,
  });
const bug = (): TypeError => new TypeError("Cannot read properties of undefined (reading 'size')");

/** An exec that lets `qemu-img create` (a step's copy of its input disk) pass and throws `error` on anything else. */
const execThrowing =
  (error: () => Error): Exec =>
  (file, args) =>
    file === 'qemu-img' && args[0] === 'create'
      ? Promise.resolve(ok({ stdout: '', stderr: '', durationMs: 1 }))
      : Promise.reject(error());

/** A run context whose step needs `upstream`, which made a qcow2 `disk`. */
function context<P>(
  kind: string,
  params: P,
  exec: Exec,
  inputs: StepSpec<P>['inputs'] = [],
): StepRunContext<P> {
  const dir = mkdtempSync(join(tmpdir(), 'emi-expected-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'disk.qcow2'), '');
  const upstream = 'upstream' as StepId;
  return {
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
    step: { id: kind as StepId, kind, needs: [upstream], section: [], params, inputs },
    workDir: dir,
    outDir: dir,
    needs: new Map([
      [
        upstream,
        {
          artifacts: { disk: 'disk.qcow2' },
          values: { format: 'qcow2', sizeBytes: 2 ** 30 },
          dir,
        },
      ],
    ]),
    secrets: new Map(),
    exec,
    accel: () => Promise.resolve('tcg'),
    cores: coreShare(2),
  };
}

const customizeParams: CustomizeParams = {
  packages: ['less'],
  users: [],
  files: [],
  remove: [],
  rcLocal: null,
  commands: [],
  sshHostKeyTypes: ['rsa', 'ecdsa', 'ed25519'],
};

const isoParams: IsoInstallParams = {
  source: 'iso',
  arch: 'x86_64',
  sha256: null,
  url: null,
  answers: 'preseed',
  locale: 'en_US.UTF-8',
  timezone: 'UTC',
  swapBytes: 0,
  kernelArgs: [],
  memoryBytes: 2 ** 30,
  cpus: 1,
  accel: 'tcg',
  timeoutMs: 60_000,
};

const debootstrapParams: DebootstrapInstallParams = {
  source: 'debootstrap',
  arch: 'x86_64',
  suite: 'bookworm',
  variant: 'minbase',
  components: ['main'],
  mirror: 'http://deb.debian.org/debian',
  kernelPackage: 'linux-image-cloud-amd64',
  packages: ['linux-image-cloud-amd64'],
  locale: 'C.UTF-8',
  timezone: 'UTC',
  diskSizeBytes: 2 ** 30,
  diskFormat: 'qcow2',
};

/** An ISO input file (its content does not matter: xorriso is the fake). */
function isoInput(): StepSpec<unknown>['inputs'] {
  const dir = mkdtempSync(join(tmpdir(), 'emi-iso-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'installer.iso'), 'not really an ISO');
  return [{ name: 'iso', path: join(dir, 'installer.iso') }];
}

type Runner = (exec: Exec) => Promise<Result<StepOutputs, StepFailure>>;
const run =
  <P>(kind: StepKind<P>, params: P, inputs?: () => StepSpec<unknown>['inputs']): Runner =>
  (exec) =>
    kind.run(context(kind.kind, params, exec, inputs?.()));

const STEPS: readonly (readonly [string, string, Runner])[] = [
  ['customize', 'customizing', run(customize, customizeParams)],
  [
    'extract-rootfs',
    'extracting the root file system',
    run(extractRootfs, { name: 'r.img', sizeBytes: 2 ** 30 }),
  ],
  ['extract-kernel', 'extracting the kernel', run(extractKernelKind, { kernel: 'newest' })],
  [
    'install-os (debootstrap)',
    'installing with debootstrap',
    // A fake host: root, and a namespace whose exec is the test's.
    (exec) =>
      installDebootstrap(context('install-os', debootstrapParams, exec), {
        isRoot: () => true,
        openSandbox: () =>
          Promise.resolve(
            ok({
              exec,
              hostPath: (path: string) => path,
              mounts: () => Promise.resolve(''),
              killInside: () => Promise.resolve(0),
              close: () => Promise.resolve(),
            }),
          ),
      }),
  ],
  [
    'install-os (iso)',
    'installing from the ISO',
    (exec) => installIso(context('install-os', isoParams, exec, isoInput())),
  ],
];

describe.each(STEPS)('%s', (_name, doing, runStep) => {
  test('a full disk is an fs failure naming the path and what the step was doing', async () => {
    const r = await runStep(execThrowing(fullDisk));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ kind: 'fs', code: 'ENOSPC', path: FULL_DISK_PATH, doing });
    expect(describeStepFailure(r.error)).toMatch(
      new RegExp(
        `^${doing}: cannot write ${FULL_DISK_PATH}: no space left on the device \\(ENOSPC\\)`,
      ),
    );
  });

  test('a bug is not a step failure: run() rejects with it', async () => {
    await expect(runStep(execThrowing(bug))).rejects.toThrow(TypeError);
  });
});

describe('install-os (iso): an ISO that is gone since the plan', () => {
  test('is an input failure naming the file, not a bug', async () => {
    const r = await installIso(
      context('install-os', isoParams, execThrowing(bug), [
        { name: 'iso', path: '/nonexistent/emi-recipe-test.iso' },
      ]),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({
      kind: 'input',
      reason: 'iso-missing',
      path: '/nonexistent/emi-recipe-test.iso',
    });
    expect(describeStepFailure(r.error)).toBe(
      'the ISO /nonexistent/emi-recipe-test.iso cannot be read (ENOENT). Check install.iso.path, then run the same command again.',
    );
  });
});

describe('iso-download', () => {
  test('networkCause: undici-shaped network errors are recognised, bugs are not', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    expect(networkCause(new TypeError('fetch failed', { cause: refused }))).toBe(
      'connect ECONNREFUSED 127.0.0.1:9',
    );
    expect(networkCause(new TypeError('terminated'))).toBe('terminated');
    expect(
      networkCause(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })),
    ).toBe('other side closed');
    expect(networkCause(bug())).toBeUndefined();
    expect(networkCause(new RangeError('Invalid array length'))).toBeUndefined();
    expect(networkCause(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeUndefined();
  });

  test('a URL fetch cannot use is an input failure saying what to check (no network used)', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'emi-cache-'));
    dirs.push(cache);
    const ctx = {
      signal: new AbortController().signal,
      log: () => undefined,
      progress: () => undefined,
    };
    const r = await downloadIso(ctx, {
      url: 'http://exa mple.invalid/x.iso',
      sha256: 'a'.repeat(64),
      env: { EMI_RECIPE_CACHE_DIR: cache },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ kind: 'input', reason: 'iso-download-failed' });
    expect(describeStepFailure(r.error)).toMatch(
      /^downloading http:\/\/exa mple\.invalid\/x\.iso failed: .+\. Check the URL and the network, or download it yourself and give install\.iso\.path\.$/,
    );
  });
});
