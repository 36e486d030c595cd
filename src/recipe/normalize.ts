// Turns a rule-valid raw recipe into the Recipe model: defaults applied, units parsed,
// host paths made absolute, eucarc variables used where the recipe is silent.
import { resolve } from 'node:path';
import type { ParsedRecipe } from './parse.js';
import {
  DEFAULT_DEBOOTSTRAP_PACKAGES,
  DEFAULT_KERNEL_PACKAGE,
  DEFAULT_METADATA_KEY_URL,
  DEFAULT_REMOVE,
  type HostFile,
  type InstallSpec,
  type Recipe,
  type VmSettings,
} from './model.js';
import type { RawRecipe, RawVm } from './raw.js';
import { parseDuration, parseSize } from './units.js';

export interface NormalizeOptions {
  readonly path: string;
  readonly dir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const size = (value: string | number | undefined, fallback: number): number =>
  value === undefined ? fallback : (parseSize(value) ?? fallback);
const duration = (value: string | number | undefined, fallback: number): number =>
  value === undefined ? fallback : (parseDuration(value) ?? fallback);

/** Builds the model. Only call after validateSchema and checkRules reported no errors. */
export function normalizeRecipe(
  raw: RawRecipe,
  parsed: ParsedRecipe,
  options: NormalizeOptions,
): Recipe {
  const { dir, env } = options;
  const host = (written: string | undefined): HostFile | undefined =>
    written === undefined ? undefined : { path: resolve(dir, written), written };
  const fromEnv = (written: string | undefined, variable: string): HostFile | undefined =>
    host(written) ??
    (env[variable] ? { path: resolve(env[variable]), written: `$${variable}` } : undefined);
  const arch = raw.arch ?? 'x86_64';
  const diskBytes = size(raw.disk.size, 0);
  const locale = raw.install.locale ?? 'en_US.UTF-8';
  const timezone = raw.install.timezone ?? 'UTC';

  let install: InstallSpec;
  if (raw.install.debootstrap) {
    const deb = raw.install.debootstrap;
    install = {
      kind: 'debootstrap',
      suite: deb.suite,
      variant: deb.variant ?? 'minbase',
      components: deb.components ?? ['main'],
      ...(deb.mirror !== undefined ? { mirror: deb.mirror } : {}),
      kernelPackage: deb.kernelPackage ?? DEFAULT_KERNEL_PACKAGE[arch],
      packages: deb.packages ?? DEFAULT_DEBOOTSTRAP_PACKAGES,
      locale,
      timezone,
    };
  } else {
    const iso = raw.install.iso ?? {};
    const isoPath = host(iso.path);
    const answerFile = host(raw.install.answerFile);
    install = {
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
      swapBytes: size(raw.install.swap, 0),
      kernelArgs: raw.install.kernelArgs ?? [],
      vm: vm(raw.install.vm, { memory: 1024 ** 3, cpus: 2, timeout: 60 * 60_000 }),
    };
  }

  const customize = raw.customize ?? {};
  const keyUser = customize.rcLocal?.metadataSshKey;
  const cloud = raw.publish?.cloud ?? 'local';
  const isLocal = cloud === 'local';
  const publish = raw.publish ?? {};
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
  const account = raw.bundle?.account ?? (isLocal ? undefined : env.EC2_USER_ID);
  const cert = isLocal ? undefined : fromEnv(raw.bundle?.cert, 'EC2_CERT');
  const privateKey = isLocal ? undefined : fromEnv(raw.bundle?.privateKey, 'EC2_PRIVATE_KEY');
  const cloudCert = isLocal ? undefined : fromEnv(raw.bundle?.cloudCert, 'EUCALYPTUS_CERT');
  const testUser = raw.test?.user ?? keyUser?.user;

  return {
    path: options.path,
    dir,
    name: raw.name,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    arch,
    disk: { sizeBytes: diskBytes, format: raw.disk.format ?? 'qcow2' },
    install,
    customize: {
      packages: customize.packages ?? [],
      users: (customize.users ?? []).map((u) => ({
        name: u.name,
        groups: u.groups ?? [],
        shell: u.shell ?? '/bin/bash',
        sudo: u.sudo ?? false,
        sshAuthorizedKeys: u.sshAuthorizedKeys ?? [],
        ...(u.uid !== undefined ? { uid: u.uid } : {}),
        ...(u.comment !== undefined ? { comment: u.comment } : {}),
      })),
      ...(customize.rcLocal
        ? {
            rcLocal: {
              ...(keyUser
                ? {
                    metadataSshKey: {
                      user: keyUser.user,
                      url: keyUser.url ?? DEFAULT_METADATA_KEY_URL,
                      timeoutMs: duration(keyUser.timeout, 60_000),
                    },
                  }
                : {}),
              modules: customize.rcLocal.modules ?? [],
              lines: customize.rcLocal.lines ?? [],
            },
          }
        : {}),
      files: (customize.files ?? []).map((f) => {
        const source = host(f.source);
        return {
          path: f.path,
          ...(f.content !== undefined ? { content: f.content } : {}),
          ...(source ? { source } : {}),
          mode: parseInt(f.mode ?? '0644', 8),
          owner: f.owner ?? 'root:root',
        };
      }),
      remove: customize.remove ?? DEFAULT_REMOVE,
      commands: customize.commands ?? [],
    },
    extract: {
      kernel: raw.extract?.kernel ?? 'newest',
      rootfsSizeBytes: size(raw.extract?.rootfsSize, diskBytes),
    },
    bundle: {
      ...(account !== undefined ? { account: account.replace(/-/g, '') } : {}),
      ...(cert ? { cert } : {}),
      ...(privateKey ? { privateKey } : {}),
      ...(cloudCert ? { cloudCert } : {}),
      partSizeBytes: size(raw.bundle?.partSize, 10 * 2 ** 20),
      blockDeviceMapping: raw.bundle?.blockDeviceMapping ?? {},
    },
    publish: {
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
      ...((publish.description ?? raw.description) !== undefined
        ? { description: publish.description ?? raw.description }
        : {}),
      public: publish.public ?? false,
      acl: publish.acl ?? 'aws-exec-read',
    },
    test: {
      boot: raw.test?.boot ?? false,
      ...(testUser !== undefined ? { user: testUser } : {}),
      commands: raw.test?.commands ?? [],
      timeoutMs: duration(raw.test?.timeout, 5 * 60_000),
      memoryBytes: size(raw.test?.memory, 1024 ** 3),
      cpus: raw.test?.cpus ?? 1,
      accel: raw.test?.accel ?? 'auto',
    },
    stepRefs: parsed.stepRefs,
    sourceMap: parsed.sourceMap,
  };
}

function vm(
  raw: RawVm | undefined,
  defaults: { memory: number; cpus: number; timeout: number },
): VmSettings {
  return {
    memoryBytes: size(raw?.memory, defaults.memory),
    cpus: raw?.cpus ?? defaults.cpus,
    accel: raw?.accel ?? 'auto',
    timeoutMs: duration(raw?.timeout, defaults.timeout),
  };
}
