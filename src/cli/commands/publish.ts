// Registers the publishing commands (images, upload-bundle, register, deregister, cloud
// serve) on the commander program. Only options and help live here; the work is loaded
// lazily from publish-run.ts so that other commands do not load the AWS SDK.
import { Option, type Command } from 'commander';
import type { ExitCode } from '../exit-codes.js';
import type { CliDeps } from '../deps.js';
import type { TargetFlags } from './publish-run.js';
import { localCloudDataDir } from '../../local-cloud/publish-target.js';
import { examples } from '../help-text.js';

/**
 * The default data dir of the local cloud for the standalone commands: the one `apply`
 * uses for a recipe in the working directory (relative, so that help shows it as such).
 */
export const DEFAULT_LOCAL_DATA_DIR = localCloudDataDir('.');

const TARGET_HELP = `
Target: --cloud local (the default unless EC2_URL is set) uses the embedded local cloud in
--data-dir (default ${DEFAULT_LOCAL_DATA_DIR}, the one 'apply' uses when run from the
recipe's folder), or the one 'emi-recipe cloud serve' is serving from that dir.
--cloud eucalyptus|aws uses --ec2-url/--s3-url or EC2_URL/S3_URL, and the key pair from
EC2_ACCESS_KEY/EC2_SECRET_KEY (source your eucarc) or the standard AWS credential chain.`;

function addTargetOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--cloud <kind>',
        'local, eucalyptus or aws (default: eucalyptus when EC2_URL is set, else local)',
      ).choices(['local', 'eucalyptus', 'aws']),
    )
    .option('--data-dir <dir>', "the local cloud's data directory", DEFAULT_LOCAL_DATA_DIR)
    .option('--ec2-url <url>', 'compute endpoint (default $EC2_URL)')
    .option('--s3-url <url>', 'object storage endpoint (default $S3_URL)')
    .option('--region <name>', 'region used in signatures (default: eucalyptus; aws: $AWS_REGION)');
}

/** Adds the publishing commands to `program`; each action stores its exit code in `result`. */
export function registerPublishCommands(
  program: Command,
  deps: CliDeps,
  result: { code: ExitCode },
): void {
  registerImages(program, deps, result);
  registerUploadBundle(program, deps, result);
  registerRegister(program, deps, result);
  registerDeregister(program, deps, result);
  registerCloudServe(program, deps, result);
}

type Result = { code: ExitCode };
const run = async (): Promise<typeof import('./publish-run.js')> => import('./publish-run.js');

/** `emi-recipe images: euca-describe-images`. */
function registerImages(program: Command, deps: CliDeps, result: Result): void {
  addTargetOptions(
    program
      .command('images')
      .description(
        'list registered images, like euca-describe-images (IMAGE id, location, owner, state, visibility, arch, type, kernel, ramdisk)',
      )
      .option(
        '--owner <owner>',
        "'self', an account id, or 'all' for every image you may launch",
        'self',
      )
      .option('--json', 'print the images as JSON', false),
  )
    .addHelpText(
      'after',
      `${examples('emi-recipe images', 'emi-recipe images --owner all --json', 'emi-recipe images --cloud eucalyptus   # after: source eucarc')}${TARGET_HELP}\n`,
    )
    .action(async (options: TargetFlags & { owner: string; json: boolean }) => {
      result.code = await (await run()).runImages(options, deps);
    });
}

/** `emi-recipe upload-bundle: euca-upload-bundle`. */
function registerUploadBundle(program: Command, deps: CliDeps, result: Result): void {
  addTargetOptions(
    program
      .command('upload-bundle')
      .description(
        'upload a bundle (parts, then the manifest) like euca-upload-bundle; parts already stored with the same MD5 are not sent again',
      )
      .requiredOption(
        '-b, --bucket <bucket[/prefix]>',
        'destination bucket and optional key prefix (created if missing)',
      )
      .requiredOption('-m, --manifest <file>', 'the bundle manifest (NAME.manifest.xml)')
      .option(
        '-d, --directory <dir>',
        "where the part files are (default: the manifest's directory)",
      )
      .addOption(
        new Option('--acl <acl>', 'canned ACL of the objects')
          .choices(['aws-exec-read', 'public-read', 'ec2-bundle-read'])
          .default('aws-exec-read'),
      )
      .option('--concurrency <n>', 'parts uploaded in parallel', '4')
      .option('--json', 'print what was sent and skipped as JSON', false),
  )
    .addHelpText(
      'after',
      `${examples('emi-recipe upload-bundle -b mybucket/debian -m bundle/debian.img.manifest.xml', 'emi-recipe upload-bundle --cloud eucalyptus -b images -m vmlinuz.manifest.xml --concurrency 8')}${TARGET_HELP}\n`,
    )
    .action(
      async (
        options: TargetFlags & {
          bucket: string;
          manifest: string;
          directory?: string;
          acl: string;
          concurrency: string;
          json: boolean;
        },
      ) => {
        result.code = await (await run()).runUploadBundle(options, deps);
      },
    );
}

/** `emi-recipe register: euca-register`. */
function registerRegister(program: Command, deps: CliDeps, result: Result): void {
  addTargetOptions(
    program
      .command('register')
      .description(
        'register an uploaded bundle like euca-register (the cloud decides kernel/ramdisk/machine from the manifest); waits until it is available',
      )
      .argument('<bucket/manifest>', 'image location: BUCKET/[PREFIX/]NAME.manifest.xml')
      .option('-n, --name <name>', 'image name (default: the manifest name without .manifest.xml)')
      .option('-d, --description <text>', 'image description')
      .option('-a, --architecture <arch>', 'i386 or x86_64 (default: from the manifest)')
      .option('--kernel <eki-id>', 'kernel image id, for a machine image')
      .option('--ramdisk <eri-id>', 'ramdisk image id, for a machine image')
      .option('--json', 'print the image as JSON', false),
  )
    .addHelpText(
      'after',
      `${examples('emi-recipe register mybucket/debian/vmlinuz-6.1.manifest.xml -n debian-kernel', 'emi-recipe register mybucket/debian/debian.img.manifest.xml -n debian --kernel eki-1a2b3c4d --ramdisk eri-5e6f7a8b')}\nAn image already registered from the same location is reused, not registered twice.\n${TARGET_HELP}\n`,
    )
    .action(
      async (
        location: string,
        options: TargetFlags & {
          name?: string;
          description?: string;
          architecture?: string;
          kernel?: string;
          ramdisk?: string;
          json: boolean;
        },
      ) => {
        result.code = await (await run()).runRegister(location, options, deps);
      },
    );
}

/** `emi-recipe deregister: euca-deregister (and euca-delete-bundle)`. */
function registerDeregister(program: Command, deps: CliDeps, result: Result): void {
  addTargetOptions(
    program
      .command('deregister')
      .description(
        'deregister an image like euca-deregister; with --delete-bundle also delete its bundle like euca-delete-bundle',
      )
      .argument('<image-id>', 'eki-, eri- or emi- id')
      .option(
        '--delete-bundle',
        "also delete the image's parts and manifest from object storage",
        false,
      ),
  )
    .addHelpText(
      'after',
      `${examples('emi-recipe deregister emi-1a2b3c4d', 'emi-recipe deregister emi-1a2b3c4d --delete-bundle')}${TARGET_HELP}\n`,
    )
    .action(async (imageId: string, options: TargetFlags & { deleteBundle: boolean }) => {
      result.code = await (await run()).runDeregister(imageId, options, deps);
    });
}

/** `emi-recipe cloud serve: the embedded local cloud`. */
function registerCloudServe(program: Command, deps: CliDeps, result: Result): void {
  program
    .command('cloud')
    .description('the embedded local cloud (S3 store + EC2 image registry on 127.0.0.1)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ emi-recipe cloud serve --port 8773 --data-dir .emi-recipe/local-cloud\n  $ emi-recipe cloud serve --help\n',
    )
    .command('serve')
    .description(
      'serve the local cloud until interrupted; writes a eucarc for euca2ools/awscli into its data dir',
    )
    .option('--port <port>', 'TCP port on 127.0.0.1 (0: any free port)', '8773')
    .option('--data-dir <dir>', "the local cloud's data directory", DEFAULT_LOCAL_DATA_DIR)
    .addHelpText(
      'after',
      `${examples('emi-recipe cloud serve', 'emi-recipe cloud serve --port 0 --data-dir /srv/emi-cloud')}
The data dir keeps buckets, images, the account's key pair and certificates across
restarts. Its keys/cloud-cert.pem is the cloud certificate to bundle for; eucarc sets
EC2_URL, S3_URL, the key pair and the certificates for other tools (source it).
Endpoints: http://127.0.0.1:PORT/services/compute and .../services/objectstorage
(S3 is also answered at http://127.0.0.1:PORT/ for clients that need a bare host).
`,
    )
    .action(async (options: { port: string; dataDir: string }) => {
      result.code = await (await run()).runCloudServe(options, deps);
    });
}
