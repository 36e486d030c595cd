// npm run bench:build — builds recipes/debian-minimal.yaml through emi-recipe's build steps
// (create-disk … extract-rootfs), timing each, then the same image with vmdb2 from Debian's
// packages, from an equivalent .vmdb spec, in the same run; prints one table.
// Root only (debootstrap, and vmdb2's loop devices). Both builds start with no .deb cache
// unless --warm is given (then emi-recipe keeps its debootstrap cache).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { mirrorForSuite } from '../src/tools/debootstrap.js';
import { hostAptSources } from '../src/steps/install-debootstrap.js';
import { rcLocalScript } from '../src/guest/rc-local.js';
import { createDisk } from '../src/steps/create-disk.js';
import { installOs } from '../src/steps/install-os.js';
import { customize } from '../src/steps/customize.js';
import { extractKernel } from '../src/steps/extract-kernel.js';
import { extractRamdisk } from '../src/steps/extract-ramdisk.js';
import { extractRootfs } from '../src/steps/extract-rootfs.js';
import type {
  BuiltinKind,
  BuiltinStepKind,
  CustomizeParams,
  DebootstrapInstallParams,
} from '../src/plan/step-params.js';
import { recipeSteps, StepHarness, stepOf } from '../test/helpers/step-harness.js';
import { repoPath } from '../test/helpers/paths.js';
import { describeStepFailure } from '../src/plan/step-failure.js';

const warm = process.argv.includes('--warm');
const keep = process.argv.includes('--keep');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function ensureVmdb2(): void {
  if (spawnSync('sh', ['-c', 'command -v vmdb2']).status === 0) return;
  console.log(
    'vmdb2 is not installed: installing it from the distribution (apt-get install vmdb2)…',
  );
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'vmdb2'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** The .vmdb spec equivalent to debian-minimal: same suite, packages, user, rc.local, removal, fstab. */
function vmdbSpec(
  install: DebootstrapInstallParams,
  custom: CustomizeParams,
  mirror: string,
  out: string,
): string {
  const user = custom.users[0];
  const rc = custom.rcLocal ? rcLocalScript(custom.rcLocal) : '';
  const indent = (text: string, n: number): string =>
    text
      .split('\n')
      .map((l) => (l ? ' '.repeat(n) + l : l))
      .join('\n');
  const chroot = [
    ...(user
      ? [
          `useradd --create-home --shell ${user.shell} --groups ${user.groups.join(',')} ${user.name}`,
          `passwd -l ${user.name}`,
          `echo '${user.name} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/${user.name}`,
          `chmod 0440 /etc/sudoers.d/${user.name}`,
        ]
      : []),
    ...custom.remove.map((p) => `rm -rf ${p}`),
    "cat > /etc/rc.local <<'EMI_RC_LOCAL'",
    rc.trimEnd(),
    'EMI_RC_LOCAL',
    'chmod 0755 /etc/rc.local',
    'rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub',
    'apt-get clean',
  ].join('\n');
  return `steps:
  - mkimg: "{{ output }}"
    size: "${install.diskSizeBytes}"
  - mklabel: msdos
    device: "{{ output }}"
  - mkpart: primary
    device: "{{ output }}"
    start: 1MiB
    end: 100%
    tag: root
  - kpartx: "{{ output }}"
  - mkfs: ext4
    partition: root
    options: -L cloudimg-rootfs
  - mount: root
  - debootstrap: ${install.suite}
    target: root
    mirror: ${mirror}
    variant: ${install.variant}
    include:
${[install.kernelPackage, ...install.packages].map((p) => `      - ${p}`).join('\n')}
  - apt: install
    tag: root
    packages:
${[...custom.packages, 'sudo'].map((p) => `      - ${p}`).join('\n')}
  - chroot: root
    shell: |
${indent(chroot, 6)}
  - fstab: root
  - shell: |
      cp "$ROOT"/boot/vmlinuz-* "$ROOT"/boot/initrd.img-* ${out}/
    root-fs: root
`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench:build needs root (debootstrap, loop devices).');
    process.exit(2);
  }
  const work = mkdtempSync('/tmp/emi-bench-');
  if (!warm) process.env.EMI_RECIPE_DEBOOTSTRAP_CACHE = 'off';
  const rows: [string, number, string][] = [];
  try {
    const specs = await recipeSteps(repoPath('recipes', 'debian-minimal.yaml'));
    const h = new StepHarness(join(work, 'emi'));
    const runStep = <K extends BuiltinKind>(kind: BuiltinStepKind<K>) =>
      h.run(kind, stepOf(specs, kind.kind, kind.kind));
    const order = [
      ['create-disk', () => runStep(createDisk)],
      ['install-os', () => runStep(installOs)],
      ['customize', () => runStep(customize)],
      ['extract-kernel', () => runStep(extractKernel)],
      ['extract-ramdisk', () => runStep(extractRamdisk)],
      ['extract-rootfs', () => runStep(extractRootfs)],
    ] as const;
    for (const [id, run] of order) {
      const started = Date.now();
      const r = await run();
      const ms = Date.now() - started;
      if (!r.ok)
        throw new Error(
          `${id} failed: ${describeStepFailure(r.error)}\n${h.logs.get(id)?.slice(-20).join('\n') ?? ''}`,
        );
      const note =
        id === 'install-os'
          ? `debootstrap, ${warm ? 'warm' : 'no'} .deb cache`
          : id === 'customize'
            ? r.value.values.method === 'chroot'
              ? 'chroot'
              : 'libguestfs'
            : '';
      rows.push([id, ms, note]);
    }
    const emiTotal = rows.reduce((t, [, ms]) => t + ms, 0);

    const kvm = spawnSync('node', [repoPath('bin', 'emi-recipe.js'), 'doctor', '--json'], {
      encoding: 'utf8',
    });
    const accel = ((): string => {
      try {
        return (JSON.parse(kvm.stdout) as { kvm?: { accel: string } }).kvm?.accel ?? 'unknown';
      } catch {
        return 'unknown';
      }
    })();
    const width = 40;
    const line = (name: string, ms: number, note = ''): string =>
      `  ${name.padEnd(width)}${seconds(ms).padStart(9)}  ${note}`;
    console.log(
      `\ndebian-minimal (recipes/debian-minimal.yaml) on ${cpus().length} cores, accelerator ${accel}, ${warm ? 'warm' : 'cold'} .deb caches\n`,
    );
    console.log('emi-recipe build steps');
    for (const [id, ms, note] of rows) console.log(line(id, ms, note));
    console.log(line('total', emiTotal));

    ensureVmdb2();
    const installParams = stepOf(specs, 'install-os', 'install-os').params;
    if (installParams.source !== 'debootstrap')
      throw new Error('recipes/debian-minimal.yaml installs with debootstrap');
    const install: DebootstrapInstallParams = installParams;
    const custom: CustomizeParams = stepOf(specs, 'customize', 'customize').params;
    const mirror = install.mirror ?? mirrorForSuite(await hostAptSources(), install.suite);
    if (!mirror)
      throw new Error(
        `vmdb2 needs a mirror and this host's apt sources have none for ${install.suite}`,
      );
    const out = join(work, 'vmdb2');
    execFileSync('mkdir', ['-p', out]);
    const spec = join(out, 'debian-minimal.vmdb');
    writeFileSync(spec, vmdbSpec(install, custom, mirror, out));
    const image = join(out, 'debian-minimal.raw');
    let started = Date.now();
    // Without device-mapper (containers), kpartx cannot work: a stand-in maps partitions to
    // offset loop devices instead (bench/kpartx-shim/kpartx). The build itself is vmdb2's.
    const noDeviceMapper = spawnSync('dmsetup', ['version']).status !== 0;
    const env = noDeviceMapper
      ? { ...process.env, PATH: `${repoPath('bench', 'kpartx-shim')}:${process.env.PATH ?? ''}` }
      : process.env;
    const vm = spawnSync('vmdb2', [`--output=${image}`, `--log=${join(out, 'vmdb2.log')}`, spec], {
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      env,
    });
    const vmdbMs = Date.now() - started;
    if (vm.status !== 0)
      throw new Error(
        `vmdb2 failed (exit ${vm.status}); see ${join(out, 'vmdb2.log')}\n${vm.stderr.slice(-2000)}`,
      );
    // The same finishing work emi-recipe does: qcow2, then the root partition cut out and resized.
    started = Date.now();
    execFileSync('qemu-img', [
      'convert',
      '-f',
      'raw',
      '-O',
      'qcow2',
      image,
      join(out, 'disk.qcow2'),
    ]);
    const partStart = 1024 * 1024;
    const size = statSync(image).size - partStart;
    const rootfs = join(out, 'rootfs.img');
    execFileSync('qemu-img', [
      'convert',
      '--image-opts',
      `driver=raw,offset=${partStart},size=${size},file.driver=qcow2,file.file.driver=file,file.file.filename=${join(out, 'disk.qcow2')}`,
      '-O',
      'raw',
      rootfs,
    ]);
    spawnSync('e2fsck', ['-fp', rootfs]);
    execFileSync('truncate', ['-s', String(2 * 2 ** 30), rootfs]);
    execFileSync('resize2fs', [rootfs], { stdio: 'ignore' });
    const finishMs = Date.now() - started;

    console.log('\nvmdb2 (Debian package), equivalent .vmdb spec, same run');
    console.log(
      line(
        'vmdb2 image (debootstrap, apt, chroot)',
        vmdbMs,
        `includes kernel/initrd copy${noDeviceMapper ? '; kpartx stand-in (no device-mapper here)' : ''}`,
      ),
    );
    console.log(line('qcow2 + root partition cut + resize', finishMs));
    console.log(line('total', vmdbMs + finishMs));
    console.log(`\nratio emi-recipe / vmdb2: ${(emiTotal / (vmdbMs + finishMs)).toFixed(2)}`);
    if (keep) console.log(`\nkept: ${work}`);
  } finally {
    if (!keep && existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

await main();
