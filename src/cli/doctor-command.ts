// Registers `doctor` (the host check: external tools, KVM) on the commander program:
// options and help only; the check itself loads lazily from commands/doctor.ts.
import { Option, type Command } from 'commander';
import type { ExitCode } from './exit-codes.js';
import type { CliDeps } from './deps.js';
import { examples } from './help-text.js';

/** `doctor`: which tools are missing, and whether KVM works. */
export function registerDoctorCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  const { terminal, env } = deps;
  program
    .command('doctor')
    .description(
      'check this host: the external tools emi-recipe runs (and the Debian/Ubuntu package for each missing one), and whether KVM really works',
    )
    .addOption(new Option('--json', 'print the report as JSON').default(false))
    .addOption(
      new Option(
        '--reprobe',
        'boot the KVM probe guests again instead of using the recorded result',
      ).default(false),
    )
    .addHelpText(
      'after',
      `${examples('emi-recipe doctor', 'emi-recipe doctor --json | jq .missingPackages')}\nExit status: 0 when every required tool is present, 1 otherwise. KVM is probed by booting\ntiny guests under it with a short timeout (a /dev/kvm node alone proves nothing); the result\nis recorded per host kernel and QEMU version, and VMs fall back to TCG when it fails.\n`,
    )
    .action(async (options: { json: boolean; reprobe: boolean }) => {
      const { runDoctor } = await import('./commands/doctor.js');
      const { exec } = await import('../tools/exec.js');
      result.code = await runDoctor(options, terminal, { exec, env, signal: deps.signal });
    });
}
