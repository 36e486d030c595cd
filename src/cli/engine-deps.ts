// What plan and apply get from the CLI's deps: the step kinds, exec, the KVM probe and
// host facts, with the real ones where a test did not inject its own.
import { exec as realExec } from '../tools/exec.js';
import { createStepKinds } from '../steps/registry.js';
import { stepKindOptions } from './step-kind-options.js';
import { cachedProbe, probeAccel } from '../tools/qemu-accel.js';
import { quietTask } from '../core/task.js';
import type { CliDeps } from './deps.js';
import type { ApplyDeps } from './commands/apply.js';
import { packageVersion } from './version.js';

/** The engine's deps (plan, apply) from the CLI's: injected ones win over the real ones. */
export function engineDeps(deps: CliDeps): ApplyDeps {
  return {
    terminal: deps.terminal,
    env: deps.env,
    signal: deps.signal,
    makeKinds: (recipe) => {
      const given = deps.kinds;
      return given
        ? { kinds: given, close: () => Promise.resolve() }
        : createStepKinds(stepKindOptions(recipe), deps.env);
    },
    exec: deps.exec ?? realExec,
    version: packageVersion(),
    probeAccel:
      deps.probeAccel ??
      (async (signal) =>
        (await probeAccel(deps.exec ?? realExec, quietTask(signal), { env: deps.env })).accel),
    hostFacts:
      deps.hostFacts ??
      (async () => ({
        accel:
          (await cachedProbe(deps.exec ?? realExec, deps.signal, deps.env))?.accel ?? 'unknown',
        isRoot: process.getuid?.() === 0,
      })),
  };
}
