// `emi-recipe unbundle`: euca-unbundle's flags on top of src/bundle/unbundle.ts, plus the
// signature check euca2ools leaves out. Prints what was written or which check failed.
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { BundleFailure } from '../../bundle/bundle-failure.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliDeps } from '../deps.js';
import { byteProgress } from '../output/byte-progress.js';
import { codeText, readPem } from './pem-files.js';

export interface UnbundleCliOptions {
  readonly manifest: string;
  readonly privatekey?: string;
  readonly source?: string;
  readonly destination: string;
  readonly cert?: string;
  readonly allowUnsigned: boolean;
  readonly progress: boolean;
}

/** Adds `unbundle` to the program; its exit code goes to `result.code`. */
export function registerUnbundleCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  program
    .command('unbundle')
    .description(
      'check and unpack a bundle like euca-unbundle: signature, key, every part digest, the image digest and size',
    )
    .requiredOption('-m, --manifest <file>', 'the bundle manifest (PREFIX.manifest.xml)')
    .option(
      '-k, --privatekey <file>',
      "your private key or the cloud's (default: $EC2_PRIVATE_KEY)",
    )
    .option('-s, --source <dir>', "directory holding the parts (default: the manifest's)")
    .option('-d, --destination <dir>', 'directory for the image (created if missing)', '.')
    .option('-c, --cert <file>', 'verify the signature against this certificate')
    .option('--allow-unsigned', 'accept a manifest signed UNSIGNED', false)
    .option('--no-progress', 'do not show progress')
    .addHelpText(
      'after',
      `
Examples:
  $ emi-recipe unbundle -m bundles/disk.img.manifest.xml -k pk.pem -d restored
  $ emi-recipe unbundle -m disk.img.manifest.xml -s parts/ -k cloud-pk.pem -c cert.pem

The key may be yours (user_encrypted_key) or the cloud's (ec2_encrypted_key). Without -c the
signature is checked against the public half of your key; with the cloud's key and no -c it
is not checked. Nothing is written unless every check passes.
Exit status: 0 unpacked, 1 the bundle was refused or could not be written, 2 bad usage,
130 interrupted.
`,
    )
    .action(async (options: UnbundleCliOptions) => {
      result.code = await runUnbundle(options, deps);
    });
}

/** Unbundles as asked; returns the exit code. */
export async function runUnbundle(options: UnbundleCliOptions, deps: CliDeps): Promise<ExitCode> {
  const { terminal, env } = deps;
  const usage = (message: string): ExitCode => {
    terminal.err(`error: ${message}\n`);
    return EXIT.usage;
  };
  const keyPath = options.privatekey ?? env.EC2_PRIVATE_KEY ?? env.EUCA_PRIVATE_KEY;
  if (keyPath === undefined || keyPath === '')
    return usage('no private key: give -k FILE or set EC2_PRIVATE_KEY (source your eucarc)');
  const key = await readPem(keyPath);
  if (!key.ok) return usage(`cannot read the private key ${keyPath} (${codeText(key.error)})`);
  let certPem: string | undefined;
  if (options.cert !== undefined) {
    const cert = await readPem(options.cert);
    if (!cert.ok)
      return usage(`cannot read the certificate ${options.cert} (${codeText(cert.error)})`);
    certPem = cert.value.text;
  }
  const { unbundle } = await import('../../bundle/unbundle.js');
  const { describeBundleFailure } = await import('../../bundle/bundle-failure.js');
  const progress = byteProgress(terminal, { label: 'unbundling', enabled: options.progress });
  const outcome = await unbundle(
    {
      manifestPath: options.manifest,
      ...(options.source !== undefined ? { partsDir: options.source } : {}),
      privateKeyPem: key.value.text,
      privateKeyName: basename(keyPath),
      ...(certPem !== undefined && options.cert !== undefined
        ? { certPem, certName: options.cert }
        : {}),
      allowUnsigned: options.allowUnsigned,
      destDir: options.destination,
    },
    { signal: deps.signal, log: () => undefined, progress: progress.update },
  );
  progress.end();
  if (!outcome.ok) {
    terminal.err(`error: ${describeBundleFailure(outcome.error)}\n${hint(outcome.error)}`);
    return exitCodeOf(outcome.error);
  }
  const { imagePath, keySource, signature } = outcome.value;
  const signatureText =
    signature === 'verified'
      ? 'signature verified'
      : signature === 'unsigned'
        ? 'manifest UNSIGNED (accepted with --allow-unsigned)'
        : 'signature not checked (cloud key, no -c certificate)';
  terminal.out(
    `Wrote ${imagePath} (key from ${keySource === 'user' ? 'user' : 'ec2'}_encrypted_key; ${signatureText})\n`,
  );
  return EXIT.ok;
}

type Reason = BundleFailure['reason'];

const DAMAGED = 'The bundle is damaged or was altered; fetch or make it again.';
const PEM = 'Certificates and keys must be PEM files (as in a eucarc credentials zip).';

/** What to do next, for the failures where there is something to say. */
const HINTS: Partial<Record<Reason, string>> = {
  'key-undecryptable':
    'Give the private key of the certificate the bundle was made for (-k), or the cloud key.',
  'signature-invalid':
    'The manifest was changed after signing, or signed by someone else: do not trust this bundle.',
  'manifest-unsigned': 'Add --allow-unsigned to unpack it anyway.',
  'manifest-invalid':
    'The manifest is malformed or was altered after signing (euca2ools writes none of the refused constructs): do not trust this bundle.',
  'private-key-invalid': PEM,
  'certificate-invalid': PEM,
  'part-missing': 'Point -s at the directory holding all the parts.',
  'part-not-regular':
    'Parts must be plain files: copy the part files themselves into the directory (not links, devices or pipes).',
  'part-digest-mismatch': DAMAGED,
  'image-digest-mismatch': DAMAGED,
  'image-size-mismatch': DAMAGED,
  'bundled-size-mismatch': DAMAGED,
  'stream-corrupt': DAMAGED,
  'output-error': 'Check that the destination directory is writable and has room for the image.',
};

function hint(failure: BundleFailure): string {
  const text = HINTS[failure.reason];
  return text === undefined ? '' : `${text}\n`;
}

function exitCodeOf(failure: BundleFailure): ExitCode {
  if (failure.reason === 'canceled') return EXIT.interrupted;
  if (failure.reason === 'private-key-invalid' || failure.reason === 'certificate-invalid')
    return EXIT.usage;
  if (failure.reason === 'manifest-unreadable' && failure.code === 'ENOENT') return EXIT.usage;
  return EXIT.failure;
}
