// boot-test: boots the extracted kernel, initrd and root file system in QEMU the way a
// Eucalyptus node does (direct kernel boot, the file system as the root disk), or an hvm
// image's whole disk through SeaBIOS (its own GRUB, no -kernel), with an
// emulated metadata service at 169.254.169.254 serving a key made for the test and
// nothing else on the guest's network; waits for an SSH login with that key (proof
// that the rc.local injection works), runs the test commands, and stops the guest.
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeToolFailure } from '../core/failure.js';
import { unreachable } from '../core/unreachable.js';
import { err, ok, type Result } from '../core/result.js';
import type { FindingStepFailure, StepFailure, StepKind, StepRunContext } from '../plan/step.js';
import type { BootTestParams } from '../plan/step-params.js';
import { formatCommand } from '../tools/exec.js';
import { QEMU_SYSTEM, type Accel } from '../tools/qemu.js';
import {
  keygenArgs,
  muxExitArgs,
  muxSocketPath,
  runOnGuest,
  sshCommandText,
  type SshTarget,
} from '../tools/ssh.js';
import {
  BOOT_APPEND,
  bootTestVmArgs,
  type BootTestMedia,
  freePort,
  GUEST_NET,
  KEY_INSTALLED_LINE,
  TEST_APPEND_EXTRA,
  testCpus,
  testNetdev,
} from '../vm/boot-vm.js';
import { type KeyHint, waitForLogin } from '../vm/guest-login.js';
import { startMetadataService } from '../vm/metadata-service.js';
import { formatDuration } from '../recipe/units.js';
import { CANCELED, stepFailure, toolStepFailure } from '../plan/step-failure.js';

function artifactOf(ctx: StepRunContext<BootTestParams>, name: string): string | undefined {
  for (const need of ctx.needs.values()) {
    const file = need.artifacts[name];
    if (file !== undefined) return join(need.dir, file);
  }
  return undefined;
}

export const bootTest: StepKind<BootTestParams, 'boot-test'> = {
  kind: 'boot-test',
  tools: [QEMU_SYSTEM, 'ssh', 'ssh-keygen'],
  typicalMs: 30_000,
  // A bigger VM or more patience does not change what the test proves.
  volatileParams: ['timeoutMs', 'memoryBytes', 'cpus', 'accel'],
  describe: (step, facts) => {
    const p = step.params;
    const accel = p.accel !== 'auto' ? p.accel : facts.accel === 'unknown' ? 'auto' : facts.accel;
    const target: SshTarget = { user: p.user, port: 0, keyPath: '<test-key>', connectTimeoutS: 5 };
    const bios = p.firmware === 'bios';
    return {
      summary: `boot ${bios ? 'the disk image through SeaBIOS (its own GRUB)' : 'the kernel, ramdisk and root file system'} with a metadata service; log in as ${p.user} with the metadata key; run ${p.commands.length} command(s)`,
      commands: [
        formatCommand('ssh-keygen', keygenArgs('<tmp>/test-key', 'emi-recipe-boot-test')),
        formatCommand(QEMU_SYSTEM, [
          '-accel',
          accel,
          ...(bios
            ? []
            : [
                '-kernel',
                '<extract-kernel>',
                '-initrd',
                '<extract-ramdisk>',
                '-append',
                `${BOOT_APPEND} ${TEST_APPEND_EXTRA}`,
              ]),
          '-drive',
          `file=${bios ? '<extract-disk>' : '<extract-rootfs>'},format=raw,if=virtio,snapshot=on`,
          '-netdev',
          testNetdev(0, 0)
            .replace(':0-:22', ':<port>-:22')
            .replace('127.0.0.1:0', '127.0.0.1:<metadata>'),
        ]),
        ...p.commands.map((c) => sshCommandText(target, c).replace('-p 0', '-p <port>')),
      ],
      effects: [],
      notes: [
        `the guest must accept the login within ${formatDuration(p.timeoutMs)}; its disk is a throw-away snapshot`,
        `accelerator: ${accel === 'auto' ? 'KVM if a probe proves it works, else TCG' : accel.toUpperCase()}`,
      ],
    };
  },
  run: async (ctx) => {
    const p = ctx.step.params;
    const media = bootMedia(ctx);
    if (!media)
      return err(
        stepFailure(
          'internal',
          'no-boot-files',
          p.firmware === 'bios'
            ? 'boot-test needs the disk image artifact (extract-disk)'
            : 'boot-test needs the kernel, ramdisk and rootfs artifacts',
        ),
      );
    const accel: Accel = p.accel === 'auto' ? await ctx.accel() : p.accel;
    const tmp = await mkdtemp(join(tmpdir(), 'emi-boot-test-'));
    try {
      const cpus = testCpus(p.cpus, accel, availableParallelism(), loadavg()[0] ?? 0);
      // The VM's vCPUs are claimed while it runs: the bundler beside it compresses on the rest.
      const release = ctx.cores.claim(cpus);
      try {
        return await boot(ctx, { media, accel, tmp, cpus });
      } finally {
        release();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};

/** What the guest boots: extract-disk's image (firmware: bios), else the three extracted files. */
function bootMedia(ctx: StepRunContext<BootTestParams>): BootTestMedia | undefined {
  if (ctx.step.params.firmware === 'bios') {
    const disk = artifactOf(ctx, 'image');
    return disk ? { disk } : undefined;
  }
  const kernel = artifactOf(ctx, 'kernel');
  const initrd = artifactOf(ctx, 'ramdisk');
  const rootfs = artifactOf(ctx, 'rootfs');
  return kernel && initrd && rootfs ? { kernel, initrd, rootfs } : undefined;
}

async function boot(
  ctx: StepRunContext<BootTestParams>,
  o: { media: BootTestMedia; accel: Accel; tmp: string; cpus: number },
): Promise<
  Result<
    { artifacts: Record<string, string>; values: Record<string, string | number> },
    StepFailure
  >
> {
  const p = ctx.step.params;
  const keyPath = join(o.tmp, 'test-key');
  const keygen = await ctx.exec('ssh-keygen', keygenArgs(keyPath, 'emi-recipe-boot-test'), {
    signal: ctx.signal,
    timeoutMs: 30_000,
  });
  if (!keygen.ok) return err(toolStepFailure(keygen.error, 'creating the test SSH key'));
  const publicKey = await readFile(`${keyPath}.pub`, 'utf8');
  const metadata = await startMetadataService(
    {
      instanceId: 'i-emirecipe',
      imageId: 'emi-boottest',
      localIpv4: GUEST_NET.dhcpStart,
      publicIpv4: '127.0.0.1',
      hostname: 'emi-recipe-boot-test',
      openSshKey: publicKey,
      keyName: 'emi-recipe-boot-test',
      instanceType: 'm1.small',
      availabilityZone: 'emi-recipe',
    },
    {
      onRequest: (r) => {
        ctx.log(`metadata: ${r.method} ${r.path} -> ${r.status}`);
      },
    },
  );
  const sshPort = await freePort();
  const consolePath = join(ctx.outDir, 'console.log');
  const consoleLog = createWriteStream(consolePath, { flags: 'w' });
  const tail: string[] = [];
  const vm = new AbortController();
  const stopVm = (): void => {
    vm.abort();
  };
  ctx.signal.addEventListener('abort', stopVm, { once: true });
  const args = bootTestVmArgs({
    accel: o.accel,
    memoryBytes: p.memoryBytes,
    cpus: o.cpus,
    ...o.media,
    metadataPort: metadata.port,
    sshPort,
  });
  ctx.log(`accelerator: ${o.accel.toUpperCase()}, ${o.cpus} vCPU(s)`);
  ctx.log(`$ ${formatCommand(QEMU_SYSTEM, args)}`);
  const started = Date.now();
  const vmState = { exited: false };
  // rc.local's "installed SSH key" on the console is the moment to try the login (a
  // hint only: the login with the key is still the proof, and is also tried every
  // POLL_MS in case the image installs its key some other way).
  const keyHint: KeyHint = { seen: false, wake: (): void => {} };
  const running = ctx
    .exec(QEMU_SYSTEM, args, {
      signal: vm.signal,
      timeoutMs: p.timeoutMs + 10 * 60_000,
      killGraceMs: 3000,
      keepStdout: false,
      onLine: (line) => {
        consoleLog.write(`${line}\n`);
        tail.push(line);
        if (tail.length > 25) tail.shift();
        if (/emi-recipe:/.test(line)) ctx.log(`console: ${line}`);
        if (!keyHint.seen && KEY_INSTALLED_LINE.test(line)) {
          keyHint.seen = true;
          keyHint.wake();
        }
      },
    })
    .then((r) => {
      vmState.exited = true;
      return r;
    });
  const base: SshTarget = { user: p.user, port: sshPort, keyPath, connectTimeoutS: 5 };
  // The login becomes a multiplexing master: the test's commands then run over its
  // connection instead of each paying a new key exchange and login in the emulated guest.
  const muxPath = muxSocketPath(o.tmp);
  const login: SshTarget = muxPath ? { ...base, mux: { path: muxPath, role: 'master' } } : base;
  const target: SshTarget = muxPath ? { ...base, mux: { path: muxPath, role: 'client' } } : base;
  // The guest is stopped (QEMU ends on SIGTERM), passed or not: its disk is a throw-away
  // snapshot and its shutdown proves nothing about the image, while an ACPI power-off of
  // systemd under TCG took seconds of every change's wait.
  const finish = async (): Promise<void> => {
    ctx.signal.removeEventListener('abort', stopVm);
    if (muxPath && existsSync(muxPath))
      await ctx.exec('ssh', muxExitArgs(base, muxPath), {
        signal: AbortSignal.timeout(5000),
        timeoutMs: 5000,
      });
    vm.abort();
    await running;
    await metadata.close();
    await new Promise((resolve) => consoleLog.end(resolve));
  };
  /** Something the guest did (or did not do), with the console's last lines. */
  const failure = (
    reason: string,
    detail: string,
    extra: Partial<Omit<FindingStepFailure, 'kind' | 'reason' | 'detail'>> = {},
  ): Result<never, StepFailure> =>
    err(stepFailure('guest', reason, detail, { outputTail: [...tail], ...extra }));
  try {
    const waited = await waitForLogin({
      exec: ctx.exec,
      target: login,
      signal: ctx.signal,
      startedMs: started,
      timeoutMs: p.timeoutMs,
      hint: keyHint,
      hasExited: () => vmState.exited,
    });
    switch (waited.kind) {
      case 'logged-in':
        break;
      case 'canceled':
        return err(CANCELED);
      case 'guest-stopped':
        return failure(
          'guest-stopped',
          `the guest stopped before accepting an SSH login (console: ${consolePath})`,
        );
      case 'timeout': {
        const keyFetched = metadata.requests.some(
          (r) => r.path.endsWith('/public-keys/0/openssh-key') && r.status === 200,
        );
        return failure(
          'boot-timeout',
          `the guest did not accept an SSH login as ${p.user} within ${formatDuration(p.timeoutMs)} (${keyFetched ? 'it did fetch its key from the metadata service' : 'it never fetched its key from the metadata service'}; last SSH error: ${waited.lastError || 'none'}). See the console log ${consolePath}; raise test.timeout if the guest is just slow`,
        );
      }
      default:
        return unreachable(waited);
    }
    const loginMs = waited.atMs;
    ctx.log(
      `logged in as ${p.user} after ${formatDuration(loginMs)} with the key from the metadata service`,
    );
    for (const command of p.commands) {
      ctx.log(`$ ${command}`);
      const r = await runOnGuest(ctx.exec, target, command, {
        signal: ctx.signal,
        timeoutMs: 10 * 60_000,
        onLine: (line) => {
          ctx.log(`  ${line}`);
        },
      });
      if (!r.ok) {
        return failure(
          'test-command-failed',
          `test command failed on the guest: ${command} (${describeToolFailure(r.error).replace(/^ssh /, '')})`,
          {
            command: `ssh ${p.user}@guest -- ${command}`,
            ...(r.error.reason === 'exit-non-zero' ? { exitCode: r.error.exitCode } : {}),
            outputTail: [...r.error.stdoutTail, ...r.error.stderrTail],
          },
        );
      }
    }
    return ok({
      artifacts: { console: 'console.log' },
      values: {
        user: p.user,
        accel: o.accel,
        loginSeconds: Math.round(loginMs / 1000),
        commands: p.commands.length,
      },
    });
  } finally {
    await finish();
  }
}
