// `emi-recipe bundle-image`: euca-bundle-image's flags and eucarc defaults, on top of
// src/bundle/make-bundle.ts. Parses and reads inputs, prints results; the bundle code is
// loaded only when the command runs.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { BundleFailure } from '../../bundle/bundle-failure.js';
import type { ImageType } from '../../bundle/manifest.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CliDeps } from '../deps.js';
import { byteProgress, formatBytes } from '../output/byte-progress.js';
import { codeText } from './pem-files.js';
import {
  checkBundleSettings,
  hostArch,
  readBundlePems,
  type BundleImageCliOptions,
} from './bundle-image-inputs.js';

/** The flag a user typed for each option name a BundleFailure may carry. */
const FLAG_OF: Readonly<Record<string, string>> = {
  arch: '-r/--arch',
  account: '-u/--user',
  prefix: '-p/--prefix',
  partSize: '--part-size',
  'encryption.keyHex': '--enc-key',
  'encryption.ivHex': '--enc-iv',
  kernelId: '--kernel',
  ramdiskId: '--ramdisk',
  blockDeviceMapping: '-B/--block-device-mapping',
  productCodes: '--productcodes',
};

/** Adds `bundle-image` to the program; its exit code goes to `result.code`. */
export function registerBundleImageCommand(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  program
    .command('bundle-image')
    .description(
      'bundle an image file like euca-bundle-image: tar, gzip, AES-128-CBC, 10 MiB parts and a signed manifest',
    )
    .requiredOption('-i, --image <file>', 'the image file to bundle')
    .option('-p, --prefix <prefix>', 'base name of the bundle files (default: the image file name)')
    .option(
      '-d, --destination <dir>',
      'directory for the bundle (default: a new bundle-XXXXXX in $TMPDIR)',
    )
    .option(
      '-r, --arch <arch>',
      "i386, x86_64, armhf, ppc, ppc64 or ppc64le (default: this machine's)",
    )
    .addOption(
      new Option('--image-type <type>', 'the image type').choices(['machine', 'kernel', 'ramdisk']),
    )
    .option('--kernel <id>', "the machine image's kernel (eki-…); 'true' bundles a kernel image")
    .option('--ramdisk <id>', "the machine image's ramdisk (eri-…); 'true' bundles a ramdisk image")
    .option('-c, --cert <file>', 'your certificate (default: $EC2_CERT)')
    .option(
      '-k, --privatekey <file>',
      'your private key, signs the manifest (default: $EC2_PRIVATE_KEY)',
    )
    .option('--ec2cert <file>', "the cloud's certificate (default: $EUCALYPTUS_CERT)")
    .option('-u, --user <account>', 'your account id (default: $EC2_USER_ID)')
    .option(
      '-B, --block-device-mapping <maps>',
      'machine images: VIRTUAL=DEVICE,… e.g. ami=sda1,root=/dev/sda1',
    )
    .option('--productcodes <codes>', 'machine images: product codes, comma-separated')
    .addOption(new Option('--part-size <bytes>', 'bytes per part').hideHelp())
    .addOption(new Option('--enc-key <hex>', 'fixed AES key (32 hex digits), for tests').hideHelp())
    .addOption(new Option('--enc-iv <hex>', 'fixed AES IV (32 hex digits), for tests').hideHelp())
    .addOption(new Option('--batch', 'accepted for euca2ools compatibility; no effect').hideHelp())
    .addOption(
      new Option('--always-deflate', 'deflate random-looking data too (for benchmarks)').hideHelp(),
    )
    .option('--no-progress', 'do not show progress')
    .addHelpText(
      'after',
      `
Examples:
  $ emi-recipe bundle-image -i vmlinuz-6.1.0 --kernel true -r x86_64 -d bundles/kernel
  $ emi-recipe bundle-image -i rootfs.img -r x86_64 --kernel eki-1a2b3c4d --ramdisk eri-5e6f7a8b \\
      -c cert.pem -k pk.pem --ec2cert cloud-cert.pem -u 123456789012 -B ami=sda1,root=/dev/sda1

Certificates, key and account default to the eucarc variables EC2_CERT, EC2_PRIVATE_KEY,
EUCALYPTUS_CERT and EC2_USER_ID. Without a private key the manifest is UNSIGNED.
Exit status: 0 bundled, 1 failed while bundling, 2 bad usage or unusable inputs, 130 interrupted.
`,
    )
    .action(async (options: BundleImageCliOptions) => {
      result.code = await runBundleImage(options, deps);
    });
}

/** Bundles as asked; returns the exit code. Never throws for expected failures. */
export async function runBundleImage(
  options: BundleImageCliOptions,
  deps: CliDeps,
): Promise<ExitCode> {
  const { terminal, env } = deps;
  const usage = (message: string): ExitCode => {
    terminal.err(`error: ${message}\n`);
    return EXIT.usage;
  };
  let imageType: ImageType = (options.imageType as ImageType | undefined) ?? 'machine';
  if (options.kernel === 'true') imageType = 'kernel';
  else if (options.ramdisk === 'true') imageType = 'ramdisk';
  const arch = options.arch ?? hostArch();
  if (arch === undefined)
    return usage(`give the architecture with -r (this machine is ${process.arch})`);
  const account = options.user ?? env.EC2_USER_ID;
  if (account === undefined || account === '')
    return usage('no account id: give -u ACCOUNT or set EC2_USER_ID (source your eucarc)');
  const pems = await readBundlePems(options, env);
  if (typeof pems === 'string') return usage(pems);
  const { cloudCert, userCert, userKey } = pems;
  if (userCert === undefined)
    terminal.err(
      'warning: no user certificate (-c, EC2_CERT): only the cloud will be able to decrypt this bundle\n',
    );
  if (userKey === undefined)
    terminal.err('warning: no private key (-k, EC2_PRIVATE_KEY): the manifest will be UNSIGNED\n');
  const settings = checkBundleSettings(options);
  if (typeof settings === 'string') return usage(settings);
  const { blockDeviceMapping, partSize } = settings;

  let destDir: string;
  try {
    if (options.destination === undefined) {
      const base = env.TMPDIR ?? env.TEMP ?? env.TMP ?? '/var/tmp';
      destDir = await mkdtemp(join(base, 'bundle-'));
    } else {
      destDir = options.destination;
      await mkdir(destDir).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
    }
  } catch (error) {
    terminal.err(
      `error: cannot create the destination directory (${codeText((error as NodeJS.ErrnoException).code ?? String(error))}); its parent must exist\n`,
    );
    return EXIT.failure;
  }

  const { bundleImage } = await import('../../bundle/make-bundle.js');
  const { describeBundleFailure, describeBundleWarning } =
    await import('../../bundle/bundle-failure.js');
  const progress = byteProgress(terminal, { label: 'bundling', enabled: options.progress });
  const outcome = await bundleImage(
    {
      imagePath: options.image,
      destDir,
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
      imageType,
      arch,
      account,
      cloudCertPem: cloudCert.text,
      ...(userCert !== undefined ? { userCertPem: userCert.text } : {}),
      ...(userKey !== undefined ? { userKeyPem: userKey.text } : {}),
      // As euca2ools: `--kernel true` makes a kernel image and is written as <kernel_id>true;
      // ids that do not suit the type are refused by the bundler's checks.
      ...(options.kernel !== undefined ? { kernelId: options.kernel } : {}),
      ...(options.ramdisk !== undefined ? { ramdiskId: options.ramdisk } : {}),
      ...(blockDeviceMapping !== undefined ? { blockDeviceMapping } : {}),
      ...(options.productcodes !== undefined
        ? { productCodes: options.productcodes.split(',').map((c) => c.trim()) }
        : {}),
      ...(partSize !== undefined ? { partSize } : {}),
      ...(options.alwaysDeflate === true ? { storeIncompressible: false } : {}),
      ...(options.encKey !== undefined && options.encIv !== undefined
        ? { encryption: { keyHex: options.encKey, ivHex: options.encIv } }
        : {}),
    },
    { signal: deps.signal, log: () => undefined, progress: progress.update },
  );
  progress.end();
  if (!outcome.ok) {
    const failure = withFlagNames(outcome.error);
    terminal.err(`error: ${describeBundleFailure(failure)}\n${hint(failure)}`);
    return exitCodeOf(failure);
  }
  for (const warning of outcome.value.warnings)
    terminal.err(`warning: ${describeBundleWarning(warning)}\n`);
  const { parts, manifestPath, manifest } = outcome.value;
  terminal.out(
    `Wrote ${parts.length} part${parts.length === 1 ? '' : 's'} (${formatBytes(manifest.image.bundledSize)}) to ${destDir}\n`,
  );
  terminal.out(`Wrote manifest ${manifestPath}\n`);
  return EXIT.ok;
}

function withFlagNames(failure: BundleFailure): BundleFailure {
  if (failure.reason !== 'invalid-option') return failure;
  return { ...failure, option: FLAG_OF[failure.option] ?? failure.option };
}

type Reason = BundleFailure['reason'];

/** What to do next, for the failures where there is something to say. */
const HINTS: Partial<Record<Reason, string>> = {
  'key-certificate-mismatch':
    'Give the private key (-k) that goes with your certificate (-c); check EC2_CERT and EC2_PRIVATE_KEY.',
  'certificate-invalid':
    'Certificates and keys must be PEM files (as in a eucarc credentials zip).',
  'private-key-invalid':
    'Certificates and keys must be PEM files (as in a eucarc credentials zip).',
  'output-error': 'Check that the destination directory is writable and has room for the bundle.',
  'image-changed':
    'Do not modify the image while it is being bundled (stop the VM using it), then run again.',
};

function hint(failure: BundleFailure): string {
  const text = HINTS[failure.reason];
  return text === undefined ? '' : `${text}\n`;
}

/** Exit codes other than 1 (a failure while bundling). */
const EXIT_CODES: Partial<Record<Reason, ExitCode>> = {
  canceled: EXIT.interrupted,
  'invalid-option': EXIT.usage,
  'certificate-invalid': EXIT.usage,
  'private-key-invalid': EXIT.usage,
  'key-certificate-mismatch': EXIT.usage,
  'image-unreadable': EXIT.usage,
};

function exitCodeOf(failure: BundleFailure): ExitCode {
  return EXIT_CODES[failure.reason] ?? EXIT.failure;
}
