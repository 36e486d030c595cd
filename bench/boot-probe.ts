// A boot of a built image outside the step, for measuring: QEMU with the given argv
// (the boot test's own, or a "bare" direct kernel boot as a user would type it), the
// emulated metadata service serving a fresh key, and a tight poll (TCP banner every
// 100 ms, then an SSH login every 250 ms). Records when console milestones appear,
// when sshd answers and when the login works; can run systemd-analyze in the guest.
// ssh runs asynchronously: a synchronous call would stop this process reading QEMU's
// console pipe, and a guest whose serial console cannot drain stalls (seconds a try).
// Used by bench/e2e.ts (the bare-boot reference) and `tsx bench/boot-probe.ts <dir>`.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { bootTestVmArgs, GUEST_NET, testCpus, testNetdev } from '../src/vm/boot-vm.js';
import { sshArgs, keygenArgs } from '../src/tools/ssh.js';
import { startMetadataService } from '../src/vm/metadata-service.js';

export interface BootFiles {
  readonly kernel: string;
  readonly initrd: string;
  readonly rootfs: string;
}

/** Console lines that mark a boot phase (first match wins). */
const MILESTONES: [string, RegExp][] = [
  ['first console line', /./],
  ['kernel runs /init (initramfs)', /Run \/init as init process|Freeing unused kernel/],
  ['systemd starts (root mounted)', /systemd\[1\]: systemd \d+|Welcome to /],
  ['key installed by rc.local', /emi-recipe: installed SSH key/],
  ['multi-user target reached', /Reached target .*Multi-User/],
];

export interface ProbeResult {
  readonly milestones: Record<string, number>;
  readonly bannerS: number;
  readonly loginS: number;
  readonly analyze?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  });
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const done = (v: boolean): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(1000, () => {
      done(false);
    });
    sock.on('data', (d: Buffer) => {
      done(d.toString().startsWith('SSH-'));
    });
    sock.on('error', () => {
      done(false);
    });
    sock.on('close', () => {
      done(false);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs ssh without blocking the event loop (QEMU's console keeps being read). */
function ssh(args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('ssh', args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}${stderr}` });
    });
  });
}

/** The bare boot: what a user would type to boot the image, nothing the test adds. */
export function bareArgs(f: BootFiles, metadataPort: number, sshPort: number): string[] {
  return [
    '-accel',
    'tcg',
    '-m',
    '512',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-kernel',
    f.kernel,
    '-initrd',
    f.initrd,
    '-append',
    ['root=/dev/vda console=ttyS0', process.env.PROBE_APPEND ?? ''].join(' ').trim(),
    '-drive',
    `file=${f.rootfs},format=raw,if=virtio,snapshot=on`,
    '-netdev',
    testNetdev(metadataPort, sshPort),
    '-device',
    'virtio-net-pci,netdev=net0',
    // For trying options by hand: PROBE_ARGS='-cpu max -device virtio-rng-pci'.
    ...(process.env.PROBE_ARGS ?? '').split(' ').filter((a) => a !== ''),
  ];
}

/** Boots once; `profile` 'bare' or 'test' (the boot test's argv). */
export async function probeBoot(
  f: BootFiles,
  profile: 'bare' | 'test',
  options: { analyze?: boolean; timeoutS?: number } = {},
): Promise<ProbeResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'emi-boot-probe-'));
  const key = join(tmp, 'key');
  spawnSync('ssh-keygen', keygenArgs(key, 'probe'));
  const pub = spawnSync('cat', [`${key}.pub`], { encoding: 'utf8' }).stdout;
  const md = await startMetadataService({
    instanceId: 'i-probe',
    imageId: 'emi-probe',
    localIpv4: GUEST_NET.dhcpStart,
    publicIpv4: '127.0.0.1',
    hostname: 'probe',
    openSshKey: pub,
    keyName: 'probe',
    instanceType: 'm1.small',
    availabilityZone: 'probe',
  });
  const port = await freePort();
  const args =
    profile === 'bare'
      ? bareArgs(f, md.port, port)
      : bootTestVmArgs({
          accel: 'tcg',
          memoryBytes: 512 * 2 ** 20,
          cpus: testCpus(1, 'tcg', availableParallelism(), loadavg()[0] ?? 0),
          ...f,
          metadataPort: md.port,
          sshPort: port,
        });
  const t0 = performance.now();
  const at = (): number => (performance.now() - t0) / 1000;
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const milestones: Record<string, number> = {};
  createInterface({ input: qemu.stdout }).on('line', (line) => {
    for (const [name, re] of MILESTONES)
      if (milestones[name] === undefined && re.test(line)) milestones[name] = at();
  });
  const limit = (options.timeoutS ?? 240) * 1000;
  const target = { user: 'debian', port, keyPath: key, connectTimeoutS: 5 };
  let bannerS = NaN;
  let loginS = NaN;
  let analyze: string | undefined;
  try {
    while (Number.isNaN(bannerS) && at() * 1000 < limit) {
      if (await banner(port)) bannerS = at();
      else await sleep(100);
    }
    while (Number.isNaN(loginS) && at() * 1000 < limit) {
      const r = await ssh(sshArgs(target, 'true'), 20_000);
      if (r.ok) loginS = at();
      else await sleep(250);
    }
    if (options.analyze && !Number.isNaN(loginS)) {
      const cmd =
        'for i in $(seq 60); do sudo -n systemd-analyze >/dev/null 2>&1 && break; sleep 1; done; sudo -n systemd-analyze; sudo -n systemd-analyze blame --no-pager | head -15; sudo -n systemd-analyze critical-chain --no-pager multi-user.target';
      analyze = (await ssh(sshArgs(target, cmd), 120_000)).output;
    }
  } finally {
    qemu.kill('SIGKILL');
    await md.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  return { milestones, bannerS, loginS, ...(analyze !== undefined ? { analyze } : {}) };
}

export function formatProbe(label: string, r: ProbeResult): string {
  const marks = Object.entries(r.milestones)
    .sort((a, b) => a[1] - b[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  marks.push(`sshd answers ${r.bannerS.toFixed(1)} s`, `SSH login ${r.loginS.toFixed(1)} s`);
  return `${label}: ${marks.join(', ')}`;
}

// tsx bench/boot-probe.ts <artifacts-dir> [bare|test] [--analyze]: probe a built image
// (<work>/.emi-recipe/<name>/artifacts; kernel, ramdisk and rootfs found by name).
if (process.argv[1]?.endsWith('boot-probe.ts')) {
  const dir = process.argv[2] ?? '';
  const find = (sub: string, re: RegExp): string => {
    const out = spawnSync('find', [join(dir, sub), '-maxdepth', '1', '-type', 'f'], {
      encoding: 'utf8',
    }).stdout;
    const file = out.split('\n').find((l) => re.test(l));
    if (!file) throw new Error(`no ${String(re)} in ${join(dir, sub)}`);
    return file;
  };
  const files = {
    kernel: find('extract-kernel', /vmlinuz/),
    initrd: find('extract-ramdisk', /initrd/),
    rootfs: find('extract-rootfs', /\.img$/),
  };
  const profile = process.argv[3] === 'test' ? 'test' : 'bare';
  const r = await probeBoot(files, profile, { analyze: process.argv.includes('--analyze') });
  console.log(formatProbe(profile, r));
  if (r.analyze) console.log(r.analyze);
}
