// `emi-recipe doctor`: which external programs are present (with versions), which are
// missing and the Debian/Ubuntu package to install, and whether KVM really works (a
// short probe, recorded; see tools/qemu.ts). Exit 0 when every required tool is present.
import { quietTask } from '../../core/task.js';
import type { Exec } from '../../tools/exec.js';
import { findProgram, HOST_TOOLS, parseVersionLine } from '../../tools/host-tools.js';
import { cacheDir } from '../../core/cache-dir.js';
import { PROBE_CACHE_FILE, probeAccel, type AccelProbe } from '../../tools/qemu-accel.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../output/terminal.js';

export interface DoctorOptions {
  readonly json: boolean;
  /** Probe KVM again even when a result is recorded. */
  readonly reprobe: boolean;
}

export interface DoctorDeps {
  readonly exec: Exec;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  readonly find?: (program: string, pathVar: string | undefined) => Promise<string | null>;
  readonly probe?: () => Promise<AccelProbe>;
  readonly isRoot?: boolean;
}

/** One row of the report (also the JSON shape, documented in docs/cli.md). */
export interface ToolReport {
  readonly program: string;
  readonly package: string;
  readonly usedFor: string;
  readonly required: boolean;
  readonly path: string | null;
  readonly version: string | null;
}

export async function runDoctor(
  options: DoctorOptions,
  terminal: Terminal,
  deps: DoctorDeps,
): Promise<ExitCode> {
  const find = deps.find ?? findProgram;
  const tools: ToolReport[] = [];
  for (const tool of HOST_TOOLS) {
    const path = await find(tool.program, deps.env.PATH);
    let version: string | null = null;
    if (path !== null && tool.versionArgs.length > 0) {
      const r = await deps.exec(path, tool.versionArgs, { signal: deps.signal, timeoutMs: 15_000 });
      const text = r.ok
        ? `${r.value.stdout}\n${r.value.stderr}`
        : [...r.error.stdoutTail, ...r.error.stderrTail].join('\n');
      version = parseVersionLine(text);
    }
    tools.push({
      program: tool.program,
      package: tool.package,
      usedFor: tool.usedFor,
      required: tool.required,
      path,
      version,
    });
  }
  const hasQemu = tools.some((t) => t.program === 'qemu-system-x86_64' && t.path !== null);
  const kvm: AccelProbe | null = hasQemu
    ? await (
        deps.probe ??
        (() =>
          probeAccel(deps.exec, quietTask(deps.signal), { force: options.reprobe, env: deps.env }))
      )()
    : null;
  const missing = tools.filter((t) => t.path === null && t.required);
  const packages = [...new Set(missing.map((t) => t.package))];
  const isRoot = deps.isRoot ?? process.getuid?.() === 0;
  if (options.json) {
    terminal.out(
      `${JSON.stringify({ version: 1, ok: missing.length === 0, root: isRoot, tools, missingPackages: packages, kvm: kvm ? { accel: kvm.accel, detail: kvm.detail, key: kvm.key, checkedAt: kvm.checkedAt, cache: `${cacheDir(deps.env)}/${PROBE_CACHE_FILE}` } : null }, null, 2)}\n`,
    );
    return missing.length === 0 ? EXIT.ok : EXIT.failure;
  }
  const width = Math.max(...tools.map((t) => t.program.length));
  const lines = ['Tools:'];
  for (const t of tools) {
    const mark = t.path ? 'ok     ' : t.required ? 'MISSING' : 'absent ';
    const where = t.path
      ? (t.version ?? 'version unknown')
      : `install: apt-get install ${t.package}`;
    lines.push(`  ${mark} ${t.program.padEnd(width)}  ${where}  (${t.usedFor})`);
  }
  lines.push('');
  if (kvm) {
    lines.push(
      `KVM: ${kvm.accel === 'kvm' ? 'works' : 'not usable, VMs use TCG (slower)'}: ${kvm.detail}`,
    );
    lines.push(
      `     recorded ${kvm.checkedAt} for ${kvm.key} in ${cacheDir(deps.env)}/${PROBE_CACHE_FILE}; --reprobe probes again`,
    );
  } else {
    lines.push('KVM: not probed (qemu-system-x86_64 is missing)');
  }
  lines.push(
    `Running as ${isRoot ? 'root: customize uses a chroot (fast); debootstrap installs work' : 'a normal user: customize uses libguestfs; debootstrap installs need root'}`,
  );
  lines.push('');
  if (missing.length > 0) {
    lines.push(
      `Missing required tools. On Debian/Ubuntu: sudo apt-get install ${packages.join(' ')}`,
    );
  } else {
    lines.push('All required tools are present.');
  }
  terminal.out(`${lines.join('\n')}\n`);
  return missing.length === 0 ? EXIT.ok : EXIT.failure;
}
