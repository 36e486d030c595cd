// Step kinds with an injected exec (no processes): describe() for the plan, create-disk's
// run and its failure report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { err, ok } from '../../../src/core/result.js';
import type { StepId, StepRunContext, StepSpec } from '../../../src/plan/step.js';
import type {
  CreateDiskParams,
  CustomizeParams,
  InstallParams,
} from '../../../src/plan/step-params.js';
import { BUILD_KINDS } from '../../../src/steps/build-kinds.js';
import { createDisk } from '../../../src/steps/create-disk.js';
import { customize } from '../../../src/steps/customize.js';
import { installOs } from '../../../src/steps/install-os.js';
import type { Exec } from '../../../src/tools/exec.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';
import { coreShare } from '../../../src/core/core-share.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function spec<P>(id: string, kind: string, params: P): StepSpec<P> {
  return { id: id as StepId, kind, needs: [], section: [], params, inputs: [] };
}

function context<P>(step: StepSpec<P>, exec: Exec): StepRunContext<P> {
  const dir = mkdtempSync(join(tmpdir(), 'emi-unit-'));
  dirs.push(dir);
  return {
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
    step,
    workDir: dir,
    outDir: join(dir, 'out'),
    needs: new Map(),
    secrets: new Map(),
    exec,
    accel: () => Promise.resolve('tcg'),
    cores: coreShare(2),
  };
}

const iso: InstallParams = {
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
  cpus: 2,
  accel: 'auto',
  timeoutMs: 3_600_000,
};

describe('build kinds', () => {
  test('one kind per step of the default graph, named like its file', () => {
    const names = Object.keys(BUILD_KINDS);
    expect(Object.values(BUILD_KINDS).map((k) => k.kind)).toEqual(names);
    expect(names).toEqual([
      'create-disk',
      'install-os',
      'customize',
      'extract-kernel',
      'extract-ramdisk',
      'extract-rootfs',
      'make-bootable',
      'extract-disk',
    ]);
  });

  test('create-disk: plan shows the command; run passes it to qemu-img', async () => {
    const step = spec<CreateDiskParams>('create-disk', 'create-disk', {
      sizeBytes: 2 * 2 ** 30,
      format: 'qcow2',
    });
    expect(createDisk.describe(step, { accel: 'unknown', isRoot: false })).toEqual({
      summary: 'create an empty 2 GiB qcow2 disk',
      commands: ['qemu-img create -q -f qcow2 <out>/disk.qcow2 2147483648'],
      effects: [],
      notes: [],
    });
    const calls: string[][] = [];
    const exec: Exec = (file, args) => {
      calls.push([file, ...args]);
      return Promise.resolve(ok({ stdout: '', stderr: '', durationMs: 1 }));
    };
    const ctx = context(step, exec);
    const r = await createDisk.run(ctx);
    expect(r).toEqual(
      ok({ artifacts: { disk: 'disk.qcow2' }, values: { format: 'qcow2', sizeBytes: 2147483648 } }),
    );
    expect(calls).toEqual([
      ['qemu-img', 'create', '-q', '-f', 'qcow2', join(ctx.outDir, 'disk.qcow2'), '2147483648'],
    ]);
  });

  test('create-disk: a failing qemu-img is reported with command, exit code, tail and advice', async () => {
    const step = spec<CreateDiskParams>('create-disk', 'create-disk', {
      sizeBytes: 1024,
      format: 'raw',
    });
    const exec: Exec = (file, args) =>
      Promise.resolve(
        err({
          reason: 'exit-non-zero',
          exitCode: 1,
          file,
          command: [file, ...args].join(' '),
          stderrTail: ['qemu-img: No space left on device'],
          stdoutTail: [],
        }),
      );
    const r = await createDisk.run(context(step, exec));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({
      kind: 'tool',
      reason: 'tool-exit-non-zero',
      doing: 'creating the disk',
      tool: 'qemu-img',
      exitCode: 1,
      stderrTail: ['qemu-img: No space left on device'],
      hint: 'Check free space in the work directory.',
    });
    expect(describeStepFailure(r.error)).toBe(
      'creating the disk: qemu-img exited with code 1. Check free space in the work directory.',
    );
    expect(r.error.kind === 'tool' ? r.error.command : '').toMatch(/^qemu-img create -q -f raw /);
  });

  test('install-os from an ISO: the plan says which accelerator', () => {
    const d = installOs.describe(spec('install-os', 'install-os', iso), {
      accel: 'tcg',
      isRoot: false,
    });
    expect(d.summary).toBe(
      'install from the ISO unattended (preseed, generated answer file), headless, power-off within 60 min',
    );
    expect(d.notes[0]).toBe('accelerator: TCG (auto)');
    expect(d.commands.at(-1)).toMatch(/^qemu-system-x86_64 .* -accel tcg -cpu max .* -no-reboot /);
    expect(
      installOs.describe(spec('install-os', 'install-os', iso), { accel: 'unknown', isRoot: false })
        .notes[0],
    ).toMatch(/not probed yet/);
  });

  test('install-os with debootstrap: the plan shows debootstrap and mke2fs', () => {
    const deb: InstallParams = {
      source: 'debootstrap',
      arch: 'x86_64',
      suite: 'bookworm',
      variant: 'minbase',
      components: ['main'],
      mirror: null,
      kernelPackage: 'linux-image-cloud-amd64',
      packages: ['curl'],
      locale: 'C.UTF-8',
      timezone: 'UTC',
      diskSizeBytes: 2 ** 30,
      diskFormat: 'qcow2',
    };
    const d = installOs.describe(spec('install-os', 'install-os', deb), {
      accel: 'unknown',
      isRoot: true,
    });
    expect(d.commands[0]).toBe(
      'debootstrap --variant=minbase --arch=amd64 --components=main --include=linux-image-cloud-amd64,curl --cache-dir=<cache>/debootstrap/bookworm-x86_64 bookworm <tmp>/tree <mirror>',
    );
    expect(d.commands[1]).toMatch(
      /^mke2fs .* -L cloudimg-rootfs -E offset=1048576 -d <tmp>\/tree /,
    );
  });

  test('customize: the plan says chroot for root, libguestfs otherwise', () => {
    const params: CustomizeParams = {
      packages: ['less'],
      users: [],
      files: [],
      remove: [],
      rcLocal: null,
      commands: [],
      sshHostKeyTypes: ['rsa', 'ecdsa', 'ed25519'],
    };
    const step = spec('customize', 'customize', params);
    expect(customize.describe(step, { accel: 'tcg', isRoot: true }).notes[0]).toBe(
      'method: chroot (running as root)',
    );
    const guest = customize.describe(step, { accel: 'tcg', isRoot: false });
    expect(guest.notes[0]).toBe('method: libguestfs (virt-customize), accelerator: tcg');
    expect(guest.summary).toBe('customize offline: install less');
  });
});
