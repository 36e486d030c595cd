// The built-in step kinds for one recipe's run, by kind name. The CLI hands them to the
// runner, so run/ never imports steps/ (STYLE.md §1). Kinds that publish share one
// CloudSession (the embedded cloud is opened once and closed by close()). Takes the
// settings the CLI derived from the recipe (cli/step-kind-options.ts), not the recipe.
import type { BuiltinKinds } from '../plan/step-params.js';
import { bootTest } from './boot-test.js';
import { bundleImageKind } from './bundle-boot-image.js';
import { bundleManifestKind } from './bundle-manifest.js';
import { bundlePartsKind } from './bundle-parts.js';
import { BUILD_KINDS } from './build-kinds.js';
import { CloudSession, type PublishSettings } from './cloud-session.js';
import { publishPreflight, type PreflightReport, type PreflightSettings } from './preflight.js';
import { registerImageKind } from './register-image.js';
import { uploadBundleKind } from './upload-bundle.js';

/** The kinds of one run, and what to release when the run is over. */
export interface StepKindSet {
  /**
   * Every built-in kind, by name: a missing one, or one of other params than its name's
   * (step-params.ts), does not compile. plan/bind-kind.ts binds each step to its entry.
   */
  readonly kinds: BuiltinKinds;
  /** Checks the publishing target before anything runs (apply; plan --refresh read-only). */
  readonly preflight?: (options: {
    mayWrite: boolean;
    kinds: ReadonlySet<string>;
    signal: AbortSignal;
  }) => Promise<PreflightReport>;
  close(): Promise<void>;
}

/** What the step kinds of one run need from its recipe, beyond each step's params. */
export interface StepKindOptions {
  readonly publish: PublishSettings;
  readonly preflight: PreflightSettings;
}

/** Every step kind this version of emi-recipe can run, publishing as `options` say. */
export function createStepKinds(
  options: StepKindOptions,
  env: Readonly<Record<string, string | undefined>>,
): StepKindSet {
  const session = new CloudSession(options.publish, env);
  const kinds: BuiltinKinds = {
    ...BUILD_KINDS,
    'boot-test': bootTest,
    'bundle-image': bundleImageKind(session),
    'bundle-parts': bundlePartsKind(session),
    'bundle-manifest': bundleManifestKind(session),
    'upload-bundle': uploadBundleKind(session),
    'register-image': registerImageKind(session),
  };
  return {
    kinds,
    preflight: (run) => publishPreflight(session, options.preflight, run),
    close: () => session.close(),
  };
}
