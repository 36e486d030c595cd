// Pre-flight of the publishing target, before a long build starts: endpoint reachable,
// credentials accepted, bucket writable or creatable, certificate and key readable and
// matching, cloud certificate present; warnings for what Eucalyptus refuses later.
import { describeCloudFailure } from '../cloud/aws-errors.js';
import { preflight, type PreflightFinding } from '../cloud/preflight.js';
import type { Recipe } from '../recipe/model.js';
import type { CloudSession } from './cloud-session.js';
import { describeStepFailure } from '../plan/step-failure.js';

export interface PreflightReport {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** Runs the checks that the kinds about to run need (upload and register steps). */
export async function publishPreflight(
  session: CloudSession,
  recipe: Recipe,
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
  const b = recipe.bundle;
  const findings: readonly PreflightFinding[] = await preflight({
    target: connection.value.target,
    store: connection.value.store,
    registry: connection.value.registry,
    bucket: recipe.publish.bucket,
    prefix: recipe.publish.prefix,
    mayWrite: options.mayWrite,
    needsAdmin: options.kinds.has('register-image') && !session.isLocal,
    imageSizeBytes: recipe.extract.rootfsSizeBytes,
    ...(session.isLocal
      ? {}
      : {
          identity: {
            ...(b.account !== undefined ? { account: b.account } : {}),
            ...(b.cert ? { certPath: b.cert.path } : {}),
            ...(b.privateKey ? { privateKeyPath: b.privateKey.path } : {}),
            ...(b.cloudCert ? { cloudCertPath: b.cloudCert.path } : {}),
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
