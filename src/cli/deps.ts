// What the CLI needs from the outside world (terminal, env, signal, injectable tools):
// main.ts builds it; commands receive it. Types only, so commands never import main.
import type { HostFacts } from '../plan/step.js';
import type { BuiltinKinds } from '../plan/step-params.js';
import type { Exec } from '../tools/exec.js';
import type { Terminal } from './output/terminal.js';

/** What main needs from the outside world; tests pass their own. */
export interface CliDeps {
  readonly terminal: Terminal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal;
  /** Step kinds (default: the built-in ones); the engine tests pass test-only kinds. */
  readonly kinds?: BuiltinKinds;
  readonly exec?: Exec;
  readonly probeAccel?: (signal: AbortSignal) => Promise<'kvm' | 'tcg'>;
  readonly hostFacts?: () => Promise<HostFacts>;
}
