// Turns a checked recipe into the Recipe model: defaults applied, host paths made absolute,
// eucarc variables used where the recipe is silent. Parses nothing: the schema typed the
// raw value and the rules parsed every size and duration (rules-sizes.ts).
import { resolve } from 'node:path';
import type { ParsedRecipe } from './parse.js';
import {
  DEFAULT_DEBOOTSTRAP_PACKAGES,
  DEFAULT_KERNEL_PACKAGE,
  DEFAULT_METADATA_KEY_URL,
  DEFAULT_REMOVE,
  type BundleSpec,
  type HostFile,
  type InstallSpec,
  type PublishSpec,
  type Recipe,
  type RecipeCustomize,
} from './model.js';
import { SSH_HOST_KEY_TYPES } from '../guest/spec.js';
import type { RawRecipe } from './raw.js';
import type { RecipeSizes } from './rules-sizes.js';

/** A recipe that passed the schema and the rules with no error, in its three views. */
export interface CheckedRecipe {
  /** The value, typed by the schema. */
  readonly raw: RawRecipe;
  /** Its sizes and durations, parsed by the rules. */
  readonly sizes: RecipeSizes;
  /** Its places and step references. */
  readonly parsed: ParsedRecipe;
}

export interface NormalizeOptions {
  readonly path: string;
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

type Env = NormalizeOptions['env'];
/** A host path as written, made absolute from the recipe's folder. */
type ToHostFile = (written: string | undefined) => HostFile | undefined;

/** Builds the model. */
export function normalizeRecipe(checked: CheckedRecipe, options: NormalizeOptions): Recipe {
  const { raw, sizes, parsed } = checked;
  const { dir } = options;
  const host: ToHostFile = (written) =>
    written === undefined ? undefined : { path: resolve(dir, written), written };
  const customize = customizeOf(raw, sizes, host);
  const testUser = raw.test?.user ?? customize.rcLocal?.metadataSshKey?.user;
  return {
    path: options.path,
    dir,
    name: raw.name,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    arch: raw.arch ?? 'x86_64',
    disk: { sizeBytes: sizes.diskBytes, format: raw.disk.format ?? 'qcow2' },
    install: installOf(raw, sizes, host),
    customize,
    image: { virtualization: raw.image?.virtualization ?? 'paravirtual' },
    extract: { kernel: raw.extract?.kernel ?? 'newest', rootfsSizeBytes: sizes.rootfsBytes },
    bundle: bundleOf(raw, sizes, host, options.env),
    publish: publishOf(raw, options.env),
    test: {
      boot: raw.test?.boot ?? false,
      ...(testUser !== undefined ? { user: testUser } : {}),
      commands: raw.test?.commands ?? [],
      timeoutMs: sizes.test.timeoutMs,
      memoryBytes: sizes.test.memoryBytes,
      cpus: raw.test?.cpus ?? 1,
      accel: raw.test?.accel ?? 'auto',
    },
    store: {
      ...(raw.store?.url !== undefined ? { url: raw.store.url } : {}),
      leaseMs: sizes.storeLeaseMs,
    },
    stepRefs: parsed.stepRefs,
    sourceMap: parsed.sourceMap,
  };
}

function installOf(raw: RawRecipe, sizes: RecipeSizes, host: ToHostFile): InstallSpec {
  const locale = raw.install.locale ?? 'en_US.UTF-8';
  const timezone = raw.install.timezone ?? 'UTC';
  const deb = raw.install.debootstrap;
  if (deb) {
    return {
      kind: 'debootstrap',
      suite: deb.suite,
      variant: deb.variant ?? 'minbase',
      components: deb.components ?? ['main'],
      ...(deb.mirror !== undefined ? { mirror: deb.mirror } : {}),
      kernelPackage: deb.kernelPackage ?? DEFAULT_KERNEL_PACKAGE[raw.arch ?? 'x86_64'],
      packages: deb.packages ?? DEFAULT_DEBOOTSTRAP_PACKAGES,
      locale,
      timezone,
    };
  }
  const iso = raw.install.iso ?? {};
  const isoPath = host(iso.path);
  const answerFile = host(raw.install.answerFile);
  return {
    kind: 'iso',
    iso: {
      ...(isoPath ? { path: isoPath } : {}),
      ...(iso.url !== undefined ? { url: iso.url } : {}),
      ...(iso.sha256 !== undefined ? { sha256: iso.sha256.toLowerCase() } : {}),
    },
    answers: raw.install.answers ?? 'preseed',
    ...(answerFile ? { answerFile } : {}),
    locale,
    timezone,
    swapBytes: sizes.swapBytes,
    kernelArgs: raw.install.kernelArgs ?? [],
    vm: {
      memoryBytes: sizes.installVm.memoryBytes,
      cpus: raw.install.vm?.cpus ?? 2,
      accel: raw.install.vm?.accel ?? 'auto',
      timeoutMs: sizes.installVm.timeoutMs,
    },
  };
}

/** The customisation with its defaults, in the guest generators' shapes (null for "none"). */
function customizeOf(raw: RawRecipe, sizes: RecipeSizes, host: ToHostFile): RecipeCustomize {
  const customize = raw.customize ?? {};
  const rcLocal = customize.rcLocal;
  const keyUser = rcLocal?.metadataSshKey;
  return {
    packages: customize.packages ?? [],
    users: (customize.users ?? []).map((u) => ({
      name: u.name,
      groups: u.groups ?? [],
      shell: u.shell ?? '/bin/bash',
      sudo: u.sudo ?? false,
      sshAuthorizedKeys: u.sshAuthorizedKeys ?? [],
      uid: u.uid ?? null,
      comment: u.comment ?? null,
    })),
    files: (customize.files ?? []).map((f) => ({
      path: f.path,
      content: f.content ?? null,
      source: host(f.source) ?? null,
      // The schema's pattern admits octal digits only.
      mode: parseInt(f.mode ?? '0644', 8),
      owner: f.owner ?? 'root:root',
    })),
    remove: customize.remove ?? DEFAULT_REMOVE,
    rcLocal: rcLocal
      ? {
          metadataSshKey: keyUser
            ? {
                user: keyUser.user,
                url: keyUser.url ?? DEFAULT_METADATA_KEY_URL,
                timeoutMs: sizes.metadataKeyTimeoutMs,
              }
            : null,
          modules: rcLocal.modules ?? [],
          lines: rcLocal.lines ?? [],
        }
      : null,
    commands: customize.commands ?? [],
    sshHostKeyTypes: customize.sshHostKeyTypes ?? SSH_HOST_KEY_TYPES,
  };
}

/** Bundling settings; for a real cloud the eucarc variables fill what the recipe leaves out. */
function bundleOf(raw: RawRecipe, sizes: RecipeSizes, host: ToHostFile, env: Env): BundleSpec {
  const isLocal = (raw.publish?.cloud ?? 'local') === 'local';
  const fromEnv = (written: string | undefined, variable: string): HostFile | undefined => {
    if (isLocal) return undefined;
    const value = env[variable];
    return host(written) ?? (value ? { path: resolve(value), written: `$${variable}` } : undefined);
  };
  const account = raw.bundle?.account ?? (isLocal ? undefined : env.EC2_USER_ID);
  const cert = fromEnv(raw.bundle?.cert, 'EC2_CERT');
  const privateKey = fromEnv(raw.bundle?.privateKey, 'EC2_PRIVATE_KEY');
  const cloudCert = fromEnv(raw.bundle?.cloudCert, 'EUCALYPTUS_CERT');
  return {
    ...(account !== undefined ? { account: account.replace(/-/g, '') } : {}),
    ...(cert ? { cert } : {}),
    ...(privateKey ? { privateKey } : {}),
    ...(cloudCert ? { cloudCert } : {}),
    partSizeBytes: sizes.partSizeBytes,
    blockDeviceMapping: raw.bundle?.blockDeviceMapping ?? {},
  };
}

/** Where the images go; for a real cloud the eucarc variables fill what the recipe leaves out. */
function publishOf(raw: RawRecipe, env: Env): PublishSpec {
  const publish = raw.publish ?? {};
  const cloud = publish.cloud ?? 'local';
  const isLocal = cloud === 'local';
  const accessKey = publish.credentials?.accessKey ?? env.EC2_ACCESS_KEY;
  const secretKey = publish.credentials?.secretKey ?? env.EC2_SECRET_KEY;
  const defaultRegion =
    cloud === 'aws'
      ? (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1')
      : cloud === 'local'
        ? 'local'
        : 'eucalyptus';
  const ec2 = publish.endpoints?.ec2 ?? (isLocal ? undefined : env.EC2_URL);
  const s3 = publish.endpoints?.s3 ?? (isLocal ? undefined : env.S3_URL);
  const description = publish.description ?? raw.description;
  return {
    cloud,
    endpoints: { ...(ec2 !== undefined ? { ec2 } : {}), ...(s3 !== undefined ? { s3 } : {}) },
    region: publish.region ?? defaultRegion,
    ...(!isLocal && accessKey && secretKey ? { credentials: { accessKey, secretKey } } : {}),
    bucket: publish.bucket ?? 'emi-recipe',
    prefix: publish.prefix ?? raw.name,
    names: {
      kernel: publish.names?.kernel ?? `${raw.name}-kernel`,
      ramdisk: publish.names?.ramdisk ?? `${raw.name}-ramdisk`,
      machine: publish.names?.machine ?? raw.name,
    },
    ...(description !== undefined ? { description } : {}),
    public: publish.public ?? false,
    acl: publish.acl ?? 'aws-exec-read',
  };
}
