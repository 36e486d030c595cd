// The recipe as written, once it matches the schema: optional fields, unparsed sizes.
// Mirrors schemas/recipe.schema.json (test/unit/recipe/raw-schema.test.ts keeps the two in
// step). schema.ts's type guard yields it; rules.ts reads its pruned form, normalize.ts the
// whole. Sizes and durations stay text here: rules-sizes.ts parses them, once.

export type RawSize = string | number;
export type RawDuration = string | number;

export interface RawVm {
  readonly memory?: RawSize;
  readonly cpus?: number;
  readonly accel?: 'auto' | 'kvm' | 'tcg';
  readonly timeout?: RawDuration;
}

export interface RawInstall {
  readonly iso?: { readonly path?: string; readonly url?: string; readonly sha256?: string };
  readonly answers?: 'preseed' | 'autoinstall' | 'kickstart';
  readonly answerFile?: string;
  readonly locale?: string;
  readonly timezone?: string;
  readonly swap?: RawSize;
  readonly kernelArgs?: readonly string[];
  readonly vm?: RawVm;
  readonly debootstrap?: {
    readonly suite: string;
    readonly variant?: 'minbase' | 'buildd' | 'default';
    readonly components?: readonly string[];
    readonly mirror?: string;
    readonly kernelPackage?: string;
    readonly packages?: readonly string[];
  };
}

export interface RawUser {
  readonly name: string;
  readonly groups?: readonly string[];
  readonly shell?: string;
  readonly sudo?: boolean | string;
  readonly sshAuthorizedKeys?: readonly string[];
  readonly uid?: number;
  readonly comment?: string;
}

export interface RawFile {
  readonly path: string;
  readonly content?: string;
  readonly source?: string;
  readonly mode?: string;
  readonly owner?: string;
}

export interface RawRecipe {
  readonly name: string;
  readonly description?: string;
  readonly arch?: 'x86_64' | 'i386';
  readonly disk: { readonly size: RawSize; readonly format?: 'qcow2' | 'raw' };
  readonly install: RawInstall;
  readonly customize?: {
    readonly packages?: readonly string[];
    readonly users?: readonly RawUser[];
    readonly rcLocal?: {
      readonly metadataSshKey?: {
        readonly user: string;
        readonly url?: string;
        readonly timeout?: RawDuration;
      };
      readonly modules?: readonly string[];
      readonly lines?: readonly string[];
    };
    readonly files?: readonly RawFile[];
    readonly remove?: readonly string[];
    readonly commands?: readonly string[];
    readonly sshHostKeyTypes?: readonly ('rsa' | 'ecdsa' | 'ed25519')[];
  };
  readonly image?: { readonly virtualization?: 'paravirtual' | 'hvm' };
  readonly extract?: { readonly kernel?: string; readonly rootfsSize?: RawSize };
  readonly bundle?: {
    readonly account?: string;
    readonly cert?: string;
    readonly privateKey?: string;
    readonly cloudCert?: string;
    readonly partSize?: RawSize;
    readonly blockDeviceMapping?: Readonly<Record<string, string>>;
  };
  readonly publish?: {
    readonly cloud?: 'local' | 'eucalyptus' | 'aws';
    readonly endpoints?: { readonly ec2?: string; readonly s3?: string };
    readonly region?: string;
    readonly credentials?: { readonly accessKey: string; readonly secretKey: string };
    readonly bucket?: string;
    readonly prefix?: string;
    readonly names?: {
      readonly kernel?: string;
      readonly ramdisk?: string;
      readonly machine?: string;
    };
    readonly description?: string;
    readonly public?: boolean;
    readonly acl?: 'aws-exec-read' | 'public-read' | 'ec2-bundle-read';
  };
  readonly test?: {
    readonly boot?: boolean;
    readonly user?: string;
    readonly commands?: readonly string[];
    readonly timeout?: RawDuration;
    readonly memory?: RawSize;
    readonly cpus?: number;
    readonly accel?: 'auto' | 'kvm' | 'tcg';
  };
  readonly store?: {
    readonly url?: string;
    readonly lease?: RawDuration;
  };
}

/**
 * Every member optional, at every depth: what rules.ts sees. Rules also run on a
 * recipe whose invalid values were pruned (see pruneInvalid in prune.ts), where
 * even required members may be missing, and list items may be holes.
 */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly (DeepPartial<U> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A schema-checked recipe with its invalid parts removed. */
export type PrunedRecipe = DeepPartial<RawRecipe>;
