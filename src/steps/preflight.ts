// Pre-flight of the publishing target, before a long build starts: endpoint reachable,
// credentials accepted, bucket writable or creatable, certificate and key readable and
// matching, cloud certificate present; warnings for what Eucalyptus refuses later.
import { describeCloudFailure } from '../cloud/aws-errors.js';
import { preflight, type PreflightFinding } from '../cloud/preflight.js';
import type { CloudSession } from './cloud-session.js';
import { describeStepFailure } from '../plan/step-failure.js';

/** What pre-flight checks besides the target: derived once from the recipe by the CLI. */
export interface PreflightSettings {
  /** Where upload-bundle will write (publish.bucket, publish.prefix). */
  readonly bucket: string;
  readonly prefix: string;
  /** The machine image's size (extract.rootfsSizeBytes; disk.size for hvm): warned about when a cloud refuses it. */
  readonly imageSizeBytes: number;
  /**
   * Whether the run registers a kernel and a ramdisk (paravirtual; needs cloud-admin
   * rights). false for hvm images: then no admin-rights warning.
   */
  readonly registersKernel: boolean;
}

/**
 * Whether the run needs cloud-admin rights: it registers a kernel and a ramdisk
 * (paravirtual, not hvm) on a real cloud. The local cloud lets anyone.
 */
export function needsAdminRights(
  settings: Pick<PreflightSettings, 'registersKernel'>,
  kinds: ReadonlySet<string>,
  isLocal: boolean,
): boolean {
  return settings.registersKernel && kinds.has('register-image') && !isLocal;
}

export interface PreflightReport {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** Runs the checks that the kinds about to run need (upload and register steps). */
export async function publishPreflight(
  session: CloudSession,
  settings: PreflightSettings,
  options: { mayWrite: boolean; kinds: ReadonlySet<string>; signal: AbortSignal },
): Promise<PreflightReport> {
  const publishes = options.kinds.has('upload-bundle') || options.kinds.has('register-image');
  const bundles =
    options.kinds.has('bundle-image') ||
    options.kinds.has('bundle-parts') ||
    options.kinds.has('bundle-manifest');
  if (!publishes && !bundles) return { errors: [], warnings: [] };
  const connection = await session.connection(options.signal);
  if (!connection.ok) return { errors: [describeStepFailure(connection.error)], warnings: [] };
  const b = session.identityFiles;
  const findings: readonly PreflightFinding[] = await preflight({
    target: connection.value.target,
    store: connection.value.store,
    registry: connection.value.registry,
    bucket: settings.bucket,
    prefix: settings.prefix,
    mayWrite: options.mayWrite,
    needsAdmin: needsAdminRights(settings, options.kinds, session.isLocal),
    imageSizeBytes: settings.imageSizeBytes,
    ...(session.isLocal
      ? {}
      : {
          identity: {
            ...(b.account !== null ? { account: b.account } : {}),
            ...(b.certPath !== null ? { certPath: b.certPath } : {}),
            ...(b.privateKeyPath !== null ? { privateKeyPath: b.privateKeyPath } : {}),
            ...(b.cloudCertPath !== null ? { cloudCertPath: b.cloudCertPath } : {}),
          },
        }),
    signal: options.signal,
  });
  const text = (f: PreflightFinding): string =>
    f.failure ? `${f.message} (${describeCloudFailure(f.failure)})` : f.message;
  return {
    errors: findings.filter((f) => f.severity === 'error').map(text),
    warnings: findings.filter((f) => f.severity === 'warning').map(text),
  };
}
