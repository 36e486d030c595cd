// The step contract: what the planner knows about a step (StepSpec, data only), what a
// step kind implements (StepKind<P>: describe for the plan, run for apply, typed by its
// params P) and what the planner and runner call (BoundKind: a kind bound to one step's
// params, made by plan/bind-kind.ts). Types only; nothing here has side effects.
// plan/ and run/ use these; steps/ implements them.
import type { CoreShare } from '../core/core-share.js';
import type { TaskContext } from '../core/task.js';
import type { Result } from '../core/result.js';
import type { Exec } from '../tools/exec.js';
import type { EnvironmentFsCode } from '../core/fs-failure.js';

declare const stepIdBrand: unique symbol;
/** A step's id in the graph, kebab-case: 'create-disk', 'bundle-kernel'. */
export type StepId = string & { readonly [stepIdBrand]: true };

/** JSON data: what params, outputs and state may hold. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A local file a step reads; its content digest enters the fingerprint. */
export interface StepInput {
  /** Stable name within the step ('iso', 'answer-file', 'files[0]'). */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  /** A secret file (private key): only its digest is ever recorded, never its content. */
  readonly secret?: boolean;
}

/**
 * One node of the plan's graph. `params` (typed per kind in step-params.ts) are the
 * step's resolved settings: plain JSON,
 * defaults applied, no secret values and no absolute paths of inputs (those are in
 * `inputs`), so that equal settings give equal fingerprints on any machine.
 * A built-in step is a `BuiltinStepSpec` (step-params.ts): its `kind` names its params' type.
 */
export interface StepSpec<P = JsonValue, K extends string = string> {
  readonly id: StepId;
  readonly kind: K;
  readonly needs: readonly StepId[];
  /** The recipe section this step comes from, for messages ('customize'). */
  readonly section: readonly (string | number)[];
  readonly params: P;
  readonly inputs: readonly StepInput[];
}

/** What a finished step produced. Recorded in state.json. */
export interface StepOutputs {
  /** Artifact name -> file name inside the step's output directory. */
  readonly artifacts: Readonly<Record<string, string>>;
  /** Values such as image ids ('imageId': 'eki-1a2b3c4d'); readable as ${steps.<id>.<name>}. */
  readonly values: Readonly<Record<string, JsonValue>>;
}

/** A remote change a step makes, listed in the plan. */
export type RemoteEffect =
  | {
      readonly kind: 'upload';
      readonly bucket: string;
      readonly prefix: string;
      readonly endpoint: string;
    }
  | {
      readonly kind: 'register';
      readonly imageType: 'kernel' | 'ramdisk' | 'machine';
      readonly name: string;
      readonly endpoint: string;
    }
  | { readonly kind: 'deregister'; readonly imageId: string; readonly endpoint: string }
  | {
      readonly kind: 'delete-bundle';
      readonly bucket: string;
      readonly prefix: string;
      readonly endpoint: string;
    };

/** What `plan` shows for a step: computed without side effects. */
export interface StepDescription {
  /** One line: what the step does, e.g. "create a 2 GiB qcow2 disk". */
  readonly summary: string;
  /** The external commands it would run, shell-escaped, for review. May use <placeholders> for temp paths. */
  readonly commands: readonly string[];
  readonly effects: readonly RemoteEffect[];
  /** Extra facts worth a reviewer's eye ("accelerator: TCG, KVM probe failed"). */
  readonly notes: readonly string[];
}

/** Facts about this host that describe() may use; gathered by the planner without side effects. */
export interface HostFacts {
  /** The accelerator a VM would get: decided by a recorded KVM probe, or unknown before the first probe. */
  readonly accel: 'kvm' | 'tcg' | 'unknown';
  readonly isRoot: boolean;
}

/** Everything a running step gets. Its only writable place is `outDir`. */
export interface StepRunContext<P = JsonValue> extends StepContext {
  /** The step, its ${steps.…} placeholders filled in from its needs' outputs. */
  readonly step: StepSpec<P>;
}

/** What the runner gives every step it runs, whatever its kind: a StepRunContext without the step. */
export interface StepContext extends TaskContext {
  /** The recipe's work directory (absolute). */
  readonly workDir: string;
  /**
   * An empty directory for this step's artifacts. The runner renames it into place only
   * after run() succeeds, so a crash never leaves a half-written artifact that looks whole.
   * Paths recorded elsewhere (qcow2 backing files) must be relative to it, or point
   * into other steps' final directories (`needs.get(id).dir`).
   */
  readonly outDir: string;
  /** Outputs of the steps in `needs`, with the absolute path of each one's final directory. */
  readonly needs: ReadonlyMap<StepId, StepOutputs & { readonly dir: string }>;
  /** Secret values by name (credentials); never log them. */
  readonly secrets: ReadonlyMap<string, string>;
  readonly exec: Exec;
  /** The accelerator for VMs in this run (probed once per run when needed). */
  readonly accel: () => Promise<'kvm' | 'tcg'>;
  /** The host's cores, shared by the run's steps: VMs claim theirs, compression asks. */
  readonly cores: CoreShare;
}

/**
 * A step failure, as facts (STYLE.md §3): tagged by `kind`, each variant holds what the
 * step knew (the tool and its exit, the path and errno…), never a finished sentence;
 * plan/step-failure.ts `describeStepFailure` makes the sentence and cli/output the report.
 * `reason` is a stable kebab-case tag within the kind (for logs and tests). Never holds secrets.
 */
export type StepFailure =
  ToolStepFailure | FsStepFailure | FindingStepFailure | CanceledStepFailure;

/** An external program did not succeed (a ToolFailure, with what the step was doing). */
export type ToolStepFailure = ToolStepFailureBase &
  (
    | {
        readonly reason: 'tool-spawn-error';
        /** The errno (ENOENT: not installed). */ readonly spawnCode: string;
      }
    | { readonly reason: 'tool-exit-non-zero'; readonly exitCode: number }
    | { readonly reason: 'tool-signal'; readonly signal: string }
    | { readonly reason: 'tool-timeout'; /** The limit it ran into. */ readonly timeoutMs: number }
  );

export interface ToolStepFailureBase {
  readonly kind: 'tool';
  /** What the step was doing, a gerund phrase: "creating the disk". */
  readonly doing: string;
  /** The program as given ("qemu-img"). */
  readonly tool: string;
  /** The whole command, shell-escaped. */
  readonly command: string;
  /** Its last lines on stderr and stdout (~20 each). */
  readonly stderrTail: readonly string[];
  readonly stdoutTail: readonly string[];
  /** What the user can do about it, a sentence by nature ("fix the package names in customize"). */
  readonly hint?: string;
}

/** A file-system error the user must fix (full, read-only, quota, permissions) at `path`. */
export interface FsStepFailure {
  readonly kind: 'fs';
  readonly reason: 'io-error';
  readonly code: EnvironmentFsCode;
  /** The file or directory concerned (the one to name, not a temp file beside it). */
  readonly path: string;
  /** The verb phrase: "write", "create its log", "record the step in". */
  readonly action: string;
  /** What the step was doing, when known: "customizing". */
  readonly doing?: string;
  /** Which place it is in, for the way out: the work directory (--work-dir) or the ISO cache (EMI_RECIPE_CACHE_DIR). */
  readonly place: 'work-dir' | 'cache-dir';
}

/**
 * Something the step found wrong, by who must act: `guest` the built image or the guest
 * (no kernel in /boot, an unsafe symlink, a guest that never booted), `input` the recipe
 * or an input file (a wrong checksum, a size too small, an ISO URL that does not answer),
 * `host` this machine (not root, no KVM), `cloud` the publishing target,
 * `internal` emi-recipe itself (a broken invariant or a thrown exception: a bug, exit 70).
 * `detail` states the fact in words because it is one by nature ("/boot/vmlinuz is not a
 * Linux kernel: found gzip").
 */
export interface FindingStepFailure {
  readonly kind: 'guest' | 'input' | 'host' | 'cloud' | 'internal';
  readonly reason: string;
  readonly detail: string;
  /** What to do next, when the detail does not say it. */
  readonly hint?: string;
  /** The file concerned, when there is one. */
  readonly path?: string;
  /** A command whose output is shown (`outputTail`), with its exit status. */
  readonly command?: string;
  readonly exitCode?: number;
  /** Lines worth showing: a console tail, a stack. */
  readonly outputTail?: readonly string[];
}

/** The step stopped because the run was interrupted (or another step failed under --on-failure kill). */
export interface CanceledStepFailure {
  readonly kind: 'canceled';
  readonly reason: 'canceled';
}

/**
 * The names of P's params, for any member of a union P (install-os's params are an ISO
 * or a debootstrap install: `memoryBytes` is a name although only the ISO one has it).
 */
export type ParamName<P> = P extends unknown ? keyof P & string : never;

/**
 * A step kind, typed by its params P and its name K: registered in steps/registry.ts
 * under K (the table there takes each built-in kind's P from step-params.ts), bound to
 * each step of that kind by plan/bind-kind.ts. Its functions are properties, not methods,
 * so TypeScript checks their parameters strictly: a kind for other params does not fit.
 */
export interface StepKind<P = JsonValue, K extends string = string> {
  readonly kind: K;
  /** External programs it runs; their versions enter its fingerprint. */
  readonly tools: readonly string[];
  /**
   * Params that change how the step runs but not what it produces (a VM's memory, a
   * timeout): left out of the fingerprint, so changing them does not re-run the step.
   */
  readonly volatileParams?: readonly ParamName<P>[];
  /**
   * Roughly how long the step takes on a small host (2 cores, TCG), in ms: the runner
   * starts the steps on the longest remaining path first, and uses this for a step that
   * has not run in this state yet (its last run's duration otherwise). Default 1000.
   */
  readonly typicalMs?: number;
  /**
   * Checks, with `--refresh`, that a completed step's effects outside the work directory
   * still hold (an image still registered, a bundle still uploaded). Returns what is
   * wrong (the step then runs again), or undefined. May make network calls.
   */
  readonly verify?: (
    step: StepSpec<P>,
    values: Readonly<Record<string, JsonValue>>,
    signal: AbortSignal,
  ) => Promise<string | undefined>;
  /** For the plan: what it would do. Pure. */
  readonly describe: (step: StepSpec<P>, facts: HostFacts) => StepDescription;
  /** Does the work; resolves (never rejects) with its outputs or a failure. */
  readonly run: (ctx: StepRunContext<P>) => Promise<Result<StepOutputs, StepFailure>>;
}

/**
 * A step kind bound to one step's params (plan/bind-kind.ts): what the planner and the
 * runner call, whatever the kind. Its params' type stays inside; nothing is cast.
 */
export interface BoundKind {
  readonly tools: readonly string[];
  /** The names of the step's params that the fingerprint leaves out. */
  readonly volatileParams: readonly string[];
  /** See StepKind.typicalMs (default filled in). */
  readonly typicalMs: number;
  /** What the step would do. Pure. */
  readonly describe: (facts: HostFacts) => StepDescription;
  /** See StepKind.verify; absent when the kind has no remote effects to check. */
  readonly verify?: (
    values: Readonly<Record<string, JsonValue>>,
    signal: AbortSignal,
  ) => Promise<string | undefined>;
  /**
   * Fills the step's ${steps.<id>.<output>} placeholders in with its needs' outputs;
   * reports the first output that does not exist.
   */
  readonly resolve: (
    outputs: (step: string) => Readonly<Record<string, JsonValue>> | undefined,
  ) => Result<ReadyStep, MissingOutput>;
}

/** A ${steps.<id>.<output>} placeholder whose output does not exist, and the outputs that do. */
export interface MissingOutput {
  readonly step: string;
  readonly output: string;
  readonly available: readonly string[];
}

/** A bound step with its params filled in: ready to run. */
export interface ReadyStep {
  /** Does the work; resolves (never rejects) with its outputs or a failure. */
  readonly run: (ctx: StepContext) => Promise<Result<StepOutputs, StepFailure>>;
}

/** The kind of each step of a graph, bound to its params: step id -> bound kind. */
export type StepKinds = ReadonlyMap<StepId, BoundKind>;
