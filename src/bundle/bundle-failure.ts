// Why bundling or unbundling did not succeed, as data (STYLE.md §3): one union tagged by
// `reason`, each variant holding facts (paths, indexes, digests), plus the sentence for
// people. Never holds the AES key or IV.
import { unreachable } from '../core/unreachable.js';

export type BundleFailure =
  /** An option has a value the bundler cannot use. */
  | {
      readonly reason: 'invalid-option';
      readonly option: string;
      readonly value: string;
      readonly expected: string;
    }
  | {
      readonly reason: 'certificate-invalid';
      readonly role: 'user' | 'cloud' | 'verify';
      readonly problem: string;
    }
  | { readonly reason: 'private-key-invalid'; readonly problem: string }
  /** The user private key does not belong to the user certificate. */
  | { readonly reason: 'key-certificate-mismatch' }
  | { readonly reason: 'image-unreadable'; readonly path: string; readonly code: string }
  /** The image's size or modification time changed while it was being bundled. */
  | {
      readonly reason: 'image-changed';
      readonly path: string;
      readonly expectedSize: number;
      readonly actualSize: number;
    }
  | { readonly reason: 'output-error'; readonly path: string; readonly code: string }
  | { readonly reason: 'canceled' }
  | { readonly reason: 'manifest-unreadable'; readonly path: string; readonly code: string }
  | { readonly reason: 'manifest-invalid'; readonly field: string; readonly problem: string }
  /** The manifest says UNSIGNED and unsigned bundles were not allowed. */
  | { readonly reason: 'manifest-unsigned'; readonly path: string }
  /** `against`: the certificate file (or the key whose public half was used). */
  | { readonly reason: 'signature-invalid'; readonly against: string }
  /** Neither user_encrypted_* nor ec2_encrypted_* decrypted to a 32-digit hex text. */
  | { readonly reason: 'key-undecryptable'; readonly tried: readonly ('user' | 'cloud')[] }
  | {
      readonly reason: 'part-missing';
      readonly index: number;
      readonly filename: string;
      readonly dir: string;
    }
  | {
      readonly reason: 'part-unreadable';
      readonly index: number;
      readonly filename: string;
      readonly code: string;
    }
  /** A part is a symlink, device, FIFO, directory…: only regular files are read. */
  | {
      readonly reason: 'part-not-regular';
      readonly index: number;
      readonly filename: string;
      /** 'symbolic link', 'character device', 'named pipe (FIFO)'… */
      readonly kind: string;
    }
  | {
      readonly reason: 'part-digest-mismatch';
      readonly index: number;
      readonly filename: string;
      readonly expected: string;
      readonly actual: string;
    }
  | {
      readonly reason: 'bundled-size-mismatch';
      readonly expected: number;
      /** Bytes read; with `stoppedAt`, reading stopped there (the parts hold at least this). */
      readonly actual: number;
      /** The part in which the parts went past the expected size. */
      readonly stoppedAt?: { readonly index: number; readonly filename: string };
    }
  /** The decrypted, decompressed or tar data is not what a bundle holds. */
  | {
      readonly reason: 'stream-corrupt';
      readonly stage: 'decrypt' | 'gunzip' | 'tar';
      readonly detail: string;
    }
  | { readonly reason: 'tar-member-unsupported'; readonly typeflag: string }
  | {
      readonly reason: 'image-digest-mismatch';
      readonly expected: string;
      readonly actual: string;
    }
  | {
      readonly reason: 'image-size-mismatch';
      readonly expected: number;
      readonly actual: number;
    };

/** Something worth telling the user that does not stop the bundle. */
export type BundleWarning =
  /** euca2ools warns the same: EC2 refuses such images; Eucalyptus' limit is configurable (30 GiB default). */
  | { readonly reason: 'image-over-10-gib'; readonly size: number }
  /** Holes could not be listed; zero runs are still detected, but every byte is read. */
  | { readonly reason: 'sparse-map-unavailable'; readonly detail: string };

/** One line saying what went wrong, naming the part, field or file concerned. */
export function describeBundleFailure(failure: BundleFailure): string {
  switch (failure.reason) {
    case 'invalid-option':
      return `${failure.option}: expected ${failure.expected}, got '${failure.value}'`;
    case 'certificate-invalid':
      return `the ${failure.role === 'verify' ? 'verification' : failure.role} certificate is not usable: ${failure.problem}`;
    case 'private-key-invalid':
      return `the private key is not usable: ${failure.problem}`;
    case 'key-certificate-mismatch':
      return 'the user private key does not belong to the user certificate';
    case 'image-unreadable':
      return `cannot read the image ${failure.path} (${failure.code})`;
    case 'image-changed':
      return failure.expectedSize === failure.actualSize
        ? `the image ${failure.path} was modified while it was being bundled`
        : `the image ${failure.path} changed while it was being bundled (size ${failure.expectedSize} at the start, ${failure.actualSize} at the end)`;
    case 'output-error':
      return `cannot write ${failure.path} (${failure.code})`;
    case 'canceled':
      return 'interrupted; no output was left behind';
    case 'manifest-unreadable':
      return `cannot read the manifest ${failure.path} (${failure.code})`;
    case 'manifest-invalid':
      return `manifest field ${failure.field}: ${failure.problem}`;
    case 'manifest-unsigned':
      return `the manifest ${failure.path} is UNSIGNED`;
    case 'signature-invalid':
      return `signature does not verify against ${failure.against}`;
    case 'key-undecryptable':
      return `cannot decrypt the key with this private key (tried ${failure.tried.map((t) => `${t === 'user' ? 'user' : 'ec2'}_encrypted_key`).join(' and ')})`;
    case 'part-missing':
      return `missing part ${failure.filename} (part ${failure.index}) in ${failure.dir}`;
    case 'part-unreadable':
      return `part ${failure.index} (${failure.filename}): cannot read it (${failure.code})`;
    case 'part-digest-mismatch':
      return `part ${failure.index} (${failure.filename}): SHA-1 mismatch (manifest ${failure.expected}, file ${failure.actual})`;
    case 'part-not-regular':
      return `part ${failure.index} (${failure.filename}) is a ${failure.kind}, not a regular file: it was not read`;
    case 'bundled-size-mismatch':
      return failure.stoppedAt === undefined
        ? `bundled size mismatch: the manifest says ${failure.expected} bytes, the parts hold ${failure.actual}`
        : `bundled size mismatch: the manifest says ${failure.expected} bytes, the parts hold more (reading stopped in part ${failure.stoppedAt.index}, ${failure.stoppedAt.filename})`;
    case 'stream-corrupt':
      return `the bundle data is corrupt at the ${failure.stage} stage: ${failure.detail}`;
    case 'tar-member-unsupported':
      return `the bundle's tar member has type '${failure.typeflag}', which this unbundler does not read`;
    case 'image-digest-mismatch':
      return `image digest mismatch: the manifest says ${failure.expected}, the unpacked tar stream has ${failure.actual}`;
    case 'image-size-mismatch':
      return `image size mismatch: the manifest says ${failure.expected} bytes, the bundle holds ${failure.actual}`;
    default:
      return unreachable(failure);
  }
}

/** One line for a warning. */
export function describeBundleWarning(warning: BundleWarning): string {
  switch (warning.reason) {
    case 'image-over-10-gib':
      return `the image is ${warning.size} bytes, more than 10 GiB: EC2 refuses such bundles and Eucalyptus may too (its limit, max_image_size_gb, is 30 GiB by default)`;
    case 'sparse-map-unavailable':
      return `could not list the image's holes (${warning.detail}); reading every byte instead`;
    default:
      return unreachable(warning);
  }
}
