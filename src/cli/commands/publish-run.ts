// The work of the publishing commands: open the target (local cloud or a real one) with
// local-cloud/publish-target.ts, call src/cloud, print like euca2ools. Loaded lazily by
// publish.ts. Prints no secret.
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { describeCloudFailure } from '../../cloud/aws-errors.js';
import { deregisterImage, describeImages, registerImage } from '../../cloud/ec2-register.js';
import type { ImageInfo, ImageRegistryPort } from '../../cloud/image-registry.js';
import type { BundleAcl, ObjectStorePort } from '../../cloud/object-store.js';
import { deleteBundle, uploadBundle } from '../../cloud/s3-upload.js';
import { endpointLabel, type CloudTarget } from '../../cloud/target.js';
import {
  describeLocalCloudFailure,
  startLocalCloud,
  type LocalCloud,
} from '../../local-cloud/server.js';
import {
  describeOpenTargetFailure,
  openPublishTarget,
  type OpenTargetOptions,
} from '../../local-cloud/publish-target.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliDeps } from '../deps.js';

/** Options every command that talks to a cloud takes. */
export interface TargetFlags {
  readonly cloud?: 'local' | 'eucalyptus' | 'aws';
  readonly dataDir: string;
  readonly ec2Url?: string;
  readonly s3Url?: string;
  readonly region?: string;
}

/** The target the command-line flags name (no recipe): the cloud, else eucarc's, else local. */
export function commandLineTarget(
  flags: Omit<TargetFlags, 'dataDir'> & { readonly dataDir?: string },
  env: CliDeps['env'],
  defaultDataDir: string,
): Omit<OpenTargetOptions, 'signal'> {
  return {
    target: {
      cloud: flags.cloud ?? ((env.EC2_URL ?? '') !== '' ? 'eucalyptus' : 'local'),
      ec2Endpoint: flags.ec2Url ?? null,
      s3Endpoint: flags.s3Url ?? null,
      region: flags.region ?? null,
      accessKeyId: null,
    },
    env,
    localDataDir: resolve(flags.dataDir ?? defaultDataDir),
    origin: 'command-line',
  };
}

interface OpenTarget {
  readonly target: CloudTarget;
  readonly store: ObjectStorePort;
  readonly registry: ImageRegistryPort;
}

async function withTarget(
  flags: TargetFlags,
  deps: CliDeps,
  work: (t: OpenTarget) => Promise<ExitCode>,
): Promise<ExitCode> {
  const opened = await openPublishTarget({
    ...commandLineTarget(flags, deps.env, flags.dataDir),
    signal: deps.signal,
  });
  if (!opened.ok) {
    deps.terminal.err(`error: ${describeOpenTargetFailure(opened.error)}\n`);
    return opened.error.reason === 'target-invalid' ? EXIT.usage : EXIT.failure;
  }
  try {
    const connection = await opened.value.connection();
    return await work({
      target: opened.value.target,
      store: connection.store,
      registry: connection.registry,
    });
  } finally {
    await opened.value.close();
  }
}

function fail(deps: CliDeps, message: string): ExitCode {
  deps.terminal.err(`error: ${message}\n`);
  return deps.signal.aborted ? EXIT.interrupted : EXIT.failure;
}

/** One euca-describe-images line (spec §5): tab-separated, empty fields kept. */
export function imageLine(image: ImageInfo): string {
  return [
    'IMAGE',
    image.imageId,
    image.imageLocation !== '' ? image.imageLocation : `${image.ownerId}/${image.name}`,
    image.ownerId,
    image.state,
    image.isPublic ? 'public' : 'private',
    image.architecture,
    image.imageType,
    image.kernelId ?? '',
    image.ramdiskId ?? '',
    image.platform ?? '',
    image.rootDeviceType ?? '',
    image.virtualizationType ?? '',
    image.hypervisor ?? '',
  ].join('\t');
}

export async function runImages(
  flags: TargetFlags & { owner: string; json: boolean },
  deps: CliDeps,
): Promise<ExitCode> {
  return withTarget(flags, deps, async (t) => {
    const owners = flags.owner === 'all' ? [] : [flags.owner];
    const listed = await describeImages({ registry: t.registry, owners, signal: deps.signal });
    if (!listed.ok) return fail(deps, describeCloudFailure(listed.error));
    if (flags.json)
      deps.terminal.out(`${JSON.stringify({ version: 1, images: listed.value }, null, 2)}\n`);
    else for (const image of listed.value) deps.terminal.out(`${imageLine(image)}\n`);
    return EXIT.ok;
  });
}

/** `bucket/prefix/more` -> {bucket, prefix}. */
function splitBucket(text: string): { bucket: string; prefix: string } {
  const clean = text.replace(/^\/+/, '');
  const slash = clean.indexOf('/');
  return slash < 0
    ? { bucket: clean, prefix: '' }
    : { bucket: clean.slice(0, slash), prefix: clean.slice(slash + 1) };
}

export async function runUploadBundle(
  flags: TargetFlags & {
    bucket: string;
    manifest: string;
    directory?: string;
    acl: string;
    concurrency: string;
    json: boolean;
  },
  deps: CliDeps,
): Promise<ExitCode> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    return (
      deps.terminal.err(
        `error: --concurrency: expected a whole number from 1 to 64, got '${flags.concurrency}'\n`,
      ),
      EXIT.usage
    );
  const { bucket, prefix } = splitBucket(flags.bucket);
  return withTarget(flags, deps, async (t) => {
    let lastShown = -1;
    const uploaded = await uploadBundle({
      store: t.store,
      bucket,
      prefix,
      manifestPath: flags.manifest,
      ...(flags.directory !== undefined ? { partsDir: flags.directory } : {}),
      acl: flags.acl as BundleAcl,
      concurrency,
      signal: deps.signal,
      onProgress: (u) => {
        if (!deps.terminal.isTty || u.total === undefined || u.total === 0) return;
        const percent = Math.floor((u.done / u.total) * 100);
        if (percent === lastShown) return;
        lastShown = percent;
        deps.terminal.err(`\ruploading ${percent}% (${u.done} of ${u.total} bytes)`);
      },
    });
    if (deps.terminal.isTty && lastShown >= 0) deps.terminal.err('\n');
    if (!uploaded.ok) return fail(deps, describeCloudFailure(uploaded.error));
    const location = `${bucket}/${uploaded.value.manifestKey}`;
    if (flags.json)
      deps.terminal.out(
        `${JSON.stringify({ version: 1, location, ...uploaded.value }, null, 2)}\n`,
      );
    else {
      deps.terminal.out(`Uploaded ${location}\n`);
      if (uploaded.value.skipped.length > 0)
        deps.terminal.err(
          `(${uploaded.value.skipped.length} of ${uploaded.value.sent.length + uploaded.value.skipped.length} objects were already there with the same MD5 and were not sent again)\n`,
        );
    }
    return EXIT.ok;
  });
}

export async function runRegister(
  location: string,
  flags: TargetFlags & {
    name?: string;
    description?: string;
    architecture?: string;
    kernel?: string;
    ramdisk?: string;
    json: boolean;
  },
  deps: CliDeps,
): Promise<ExitCode> {
  const name = flags.name ?? basename(location).replace(/\.manifest\.xml$/, '');
  return withTarget(flags, deps, async (t) => {
    const registered = await registerImage({
      registry: t.registry,
      imageLocation: location,
      name,
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(flags.architecture !== undefined ? { architecture: flags.architecture } : {}),
      ...(flags.kernel !== undefined ? { kernelId: flags.kernel } : {}),
      ...(flags.ramdisk !== undefined ? { ramdiskId: flags.ramdisk } : {}),
      signal: deps.signal,
    });
    if (!registered.ok) return fail(deps, describeCloudFailure(registered.error));
    if (flags.json)
      deps.terminal.out(`${JSON.stringify({ version: 1, ...registered.value }, null, 2)}\n`);
    else {
      deps.terminal.out(`IMAGE\t${registered.value.imageId}\n`);
      if (registered.value.reused)
        deps.terminal.err(`(already registered from ${location}; reused)\n`);
    }
    return EXIT.ok;
  });
}

export async function runDeregister(
  imageId: string,
  flags: TargetFlags & { deleteBundle: boolean },
  deps: CliDeps,
): Promise<ExitCode> {
  return withTarget(flags, deps, async (t) => {
    let location: string | undefined;
    if (flags.deleteBundle) {
      const found = await describeImages({
        registry: t.registry,
        owners: [],
        imageIds: [imageId],
        signal: deps.signal,
      });
      if (!found.ok) return fail(deps, describeCloudFailure(found.error));
      location = found.value.find((i) => i.imageId === imageId)?.imageLocation;
      if (location === undefined)
        return fail(
          deps,
          `image ${imageId} does not exist at ${endpointLabel(t.target, 'ec2')}; nothing to deregister`,
        );
    }
    const gone = await deregisterImage({ registry: t.registry, imageId, signal: deps.signal });
    if (!gone.ok) return fail(deps, describeCloudFailure(gone.error));
    if (!gone.value.existed) deps.terminal.err(`(${imageId} was not registered)\n`);
    deps.terminal.out(`IMAGE\t${imageId}\n`);
    if (location !== undefined) {
      const { bucket, prefix } = splitBucket(location);
      const slash = prefix.lastIndexOf('/');
      const deleted = await deleteBundle({
        store: t.store,
        bucket,
        prefix: slash < 0 ? '' : prefix.slice(0, slash),
        manifestName: slash < 0 ? prefix : prefix.slice(slash + 1),
        signal: deps.signal,
      });
      if (!deleted.ok) return fail(deps, describeCloudFailure(deleted.error));
      deps.terminal.err(`deleted ${deleted.value.deleted.length} objects of ${location}\n`);
    }
    return EXIT.ok;
  });
}

/** The eucarc text for a local cloud (contains its secret: written 0600, never printed). */
export function localEucarc(cloud: LocalCloud): string {
  const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return [
    '# emi-recipe local cloud: source this file to use it with euca2ools, awscli or emi-recipe',
    `export EC2_URL=${q(cloud.endpoints.ec2)}`,
    `export S3_URL=${q(cloud.endpoints.s3)}`,
    `export EC2_ACCESS_KEY=${q(cloud.credentials.accessKeyId)}`,
    `export EC2_SECRET_KEY=${q(cloud.credentials.secretAccessKey)}`,
    `export EC2_USER_ID=${q(cloud.accountId)}`,
    `export EC2_CERT=${q(cloud.keyFiles['user-cert'])}`,
    `export EC2_PRIVATE_KEY=${q(cloud.keyFiles['user-key'])}`,
    `export EUCALYPTUS_CERT=${q(cloud.keyFiles['cloud-cert'])}`,
    `export AWS_ACCESS_KEY_ID="$EC2_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$EC2_SECRET_KEY" AWS_DEFAULT_REGION=${q(cloud.region)}`,
    '',
  ].join('\n');
}

export async function runCloudServe(
  flags: { port: string; dataDir: string },
  deps: CliDeps,
): Promise<ExitCode> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return (
      deps.terminal.err(
        `error: --port: expected a port number from 0 to 65535, got '${flags.port}'\n`,
      ),
      EXIT.usage
    );
  const dataDir = resolve(flags.dataDir);
  const started = await startLocalCloud({ dataDir, port, signal: deps.signal });
  if (!started.ok) return fail(deps, describeLocalCloudFailure(started.error));
  const cloud = started.value;
  const eucarc = join(dataDir, 'eucarc');
  await writeFileAtomic(eucarc, localEucarc(cloud), { mode: 0o600 });
  deps.terminal.out(
    `local cloud serving ${dataDir}\n` +
      `  EC2 (compute):       ${cloud.endpoints.ec2}\n` +
      `  S3 (object storage): ${cloud.endpoints.s3}\n` +
      `  account:             ${cloud.accountId}   access key id: ${cloud.credentials.accessKeyId}\n` +
      `  cloud certificate:   ${cloud.keyFiles['cloud-cert']}\n` +
      `  credentials:         source ${eucarc}\n` +
      'Press Ctrl-C to stop.\n',
  );
  await new Promise<void>((done) => {
    if (deps.signal.aborted) done();
    else
      deps.signal.addEventListener(
        'abort',
        () => {
          done();
        },
        { once: true },
      );
  });
  await cloud.close();
  deps.terminal.err('local cloud stopped\n');
  return EXIT.ok;
}
