// Pre-flight: before a long build starts, check what the publish steps will need
// (endpoints reachable, key pair accepted, bucket writable or creatable, certificates
// readable and matching) and warn about what Eucalyptus will refuse later, so that a
// 40-minute install never ends in "bad credentials".
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyMatchesCertificate } from '../bundle/rsa.js';
import { describeCloudFailure, type CloudFailure } from './aws-errors.js';
import type { ImageRegistryPort } from './image-registry.js';
import type { ObjectStorePort } from './object-store.js';
import { bundleKey } from './s3-upload.js';
import type { CloudTarget } from './target.js';

export type PreflightCheck =
  | 'ec2-access'
  | 's3-access'
  | 'bucket'
  | 'certificate'
  | 'private-key'
  | 'cloud-certificate'
  | 'account'
  | 'admin-rights'
  | 'image-size';

export interface PreflightFinding {
  readonly severity: 'error' | 'warning' | 'info';
  readonly check: PreflightCheck;
  /** What is wrong (or will be) and what to check, naming the endpoint or file. */
  readonly message: string;
  readonly failure?: CloudFailure;
}

/** The bundling identity to check; paths as given by the recipe or eucarc. */
export interface BundleIdentityFiles {
  readonly account?: string;
  readonly certPath?: string;
  readonly privateKeyPath?: string;
  readonly cloudCertPath?: string;
}

export interface PreflightOptions {
  readonly target: CloudTarget;
  readonly store: ObjectStorePort;
  readonly registry: ImageRegistryPort;
  readonly bucket: string;
  readonly prefix: string;
  /**
   * apply: true (the bucket is created if missing and a probe object is written and
   * deleted); plan --refresh: false (read-only requests only).
   */
  readonly mayWrite: boolean;
  /** The run will register kernel or ramdisk images. */
  readonly needsAdmin: boolean;
  /** Size of the largest image to bundle, when known (warns above 10 GiB). */
  readonly imageSizeBytes?: number;
  /** Omitted for the local cloud, which issues its own. */
  readonly identity?: BundleIdentityFiles;
  readonly signal: AbortSignal;
  /** Clock for certificate validity (tests). */
  readonly now?: Date;
}

const GIB = 1024 ** 3;
const PROBE = '.emi-recipe-preflight';

async function checkEc2(options: PreflightOptions): Promise<PreflightFinding[]> {
  const probe = await options.registry.describeImages(
    { owners: ['self'], filters: { name: [PROBE] } },
    options.signal,
  );
  if (probe.ok) return [];
  return [
    {
      severity: 'error',
      check: 'ec2-access',
      message: describeCloudFailure(probe.error),
      failure: probe.error,
    },
  ];
}

async function checkS3(options: PreflightOptions): Promise<PreflightFinding[]> {
  const { store, bucket, signal } = options;
  const exists = await store.bucketExists(bucket, signal);
  if (!exists.ok) {
    const hint =
      exists.error.reason === 'access-denied'
        ? ` The bucket '${bucket}' may belong to another account: choose another publish.bucket.`
        : '';
    return [
      {
        severity: 'error',
        check: 's3-access',
        message: describeCloudFailure(exists.error) + hint,
        failure: exists.error,
      },
    ];
  }
  if (!options.mayWrite) {
    return exists.value
      ? []
      : [
          {
            severity: 'info',
            check: 'bucket',
            message: `bucket '${bucket}' does not exist at ${store.endpoint} yet; apply will create it`,
          },
        ];
  }
  if (!exists.value) {
    const created = await store.createBucket(bucket, signal);
    if (!created.ok) {
      return [
        {
          severity: 'error',
          check: 'bucket',
          message: `bucket '${bucket}' does not exist and cannot be created: ${describeCloudFailure(created.error)}`,
          failure: created.error,
        },
      ];
    }
  }
  const key = bundleKey(options.prefix, PROBE);
  const body = new Uint8Array();
  const put = await store.putObject(
    { bucket, key, body, md5Hex: 'd41d8cd98f00b204e9800998ecf8427e', acl: 'aws-exec-read' },
    signal,
  );
  if (!put.ok) {
    return [
      {
        severity: 'error',
        check: 'bucket',
        message: `bucket '${bucket}' is not writable: ${describeCloudFailure(put.error)}`,
        failure: put.error,
      },
    ];
  }
  const removed = await store.deleteObject(bucket, key, signal);
  if (!removed.ok) {
    return [
      {
        severity: 'warning',
        check: 'bucket',
        message: `could write but not delete ${bucket}/${key}: delete-bundle cleanups will fail (${describeCloudFailure(removed.error)})`,
        failure: removed.error,
      },
    ];
  }
  return [];
}

async function readPem(
  path: string | undefined,
  check: PreflightCheck,
  what: string,
  variable: string,
): Promise<PreflightFinding | string> {
  if (path === undefined) {
    return {
      severity: 'error',
      check,
      message: `${what} is not set: give it in the recipe's bundle section or export ${variable} (source your eucarc)`,
    };
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      severity: 'error',
      check,
      message: `${what} ${path} cannot be read (${code}); check the path and its permissions`,
    };
  }
}

function certFindings(
  pem: string,
  path: string,
  check: PreflightCheck,
  what: string,
  now: Date,
): PreflightFinding[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return [
      { severity: 'error', check, message: `${what} ${path} is not a PEM X.509 certificate` },
    ];
  }
  if (new Date(cert.validTo) < now)
    return [
      {
        severity: 'warning',
        check,
        message: `${what} ${path} expired on ${cert.validTo}; the cloud may refuse bundles made with it`,
      },
    ];
  return [];
}

async function checkIdentity(
  identity: BundleIdentityFiles,
  now: Date,
): Promise<PreflightFinding[]> {
  const findings: PreflightFinding[] = [];
  if (identity.account === undefined || !/^\d{12}$/.test(identity.account.replace(/-/g, ''))) {
    findings.push({
      severity: 'error',
      check: 'account',
      message: `the account id ${identity.account === undefined ? 'is not set' : `'${identity.account}' is not 12 digits`}: give bundle.account or export EC2_USER_ID`,
    });
  }
  const cert = await readPem(identity.certPath, 'certificate', 'your certificate', 'EC2_CERT');
  const key = await readPem(
    identity.privateKeyPath,
    'private-key',
    'your private key',
    'EC2_PRIVATE_KEY',
  );
  const cloud = await readPem(
    identity.cloudCertPath,
    'cloud-certificate',
    "the cloud's certificate",
    'EUCALYPTUS_CERT',
  );
  for (const item of [cert, key, cloud]) if (typeof item !== 'string') findings.push(item);
  if (typeof cert === 'string')
    findings.push(
      ...certFindings(cert, identity.certPath ?? '', 'certificate', 'your certificate', now),
    );
  if (typeof cloud === 'string')
    findings.push(
      ...certFindings(
        cloud,
        identity.cloudCertPath ?? '',
        'cloud-certificate',
        "the cloud's certificate",
        now,
      ),
    );
  if (typeof cert === 'string' && typeof key === 'string' && !keyMatchesCertificate(key, cert)) {
    findings.push({
      severity: 'error',
      check: 'private-key',
      message: `your private key ${identity.privateKeyPath ?? ''} does not belong to your certificate ${identity.certPath ?? ''}: the cloud would refuse the manifest signature`,
    });
  }
  return findings;
}

/**
 * Runs every check (the EC2 and S3 ones in parallel) and returns the findings, errors
 * first. An empty list means publishing should work. Never throws.
 */
export async function preflight(options: PreflightOptions): Promise<readonly PreflightFinding[]> {
  const now = options.now ?? new Date();
  const [ec2, s3, identity] = await Promise.all([
    checkEc2(options),
    checkS3(options),
    options.identity !== undefined ? checkIdentity(options.identity, now) : Promise.resolve([]),
  ]);
  const findings = [...ec2, ...s3, ...identity];
  if (options.needsAdmin && options.target.cloud === 'eucalyptus') {
    findings.push({
      severity: 'warning',
      check: 'admin-rights',
      message:
        'registering kernel (eki) and ramdisk (eri) images needs cloud-admin rights on Eucalyptus ("Only administrators can register kernel images."): use credentials of the eucalyptus account, or have an admin register them',
    });
  }
  if (options.needsAdmin && options.target.cloud === 'aws') {
    findings.push({
      severity: 'warning',
      check: 'admin-rights',
      message:
        'Amazon EC2 does not let ordinary accounts register kernel or ramdisk images (AKI/ARI); register the machine image with an existing kernel instead',
    });
  }
  const size = options.imageSizeBytes;
  if (size !== undefined && size > 10 * GIB) {
    findings.push({
      severity: 'warning',
      check: 'image-size',
      message: `the image is ${(size / GIB).toFixed(1)} GiB: bundles over 10 GiB are incompatible with EC2${size > 30 * GIB ? ', and Eucalyptus refuses images over 30 GiB unless its max_image_size_gb is raised' : ''}`,
    });
  }
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
