// `npm run bench:upload`: uploads a 1 GiB bundle (10 MiB parts + manifest) to the local
// cloud with emi-recipe's uploadBundle and, in the same run against the same server, the
// same files with Debian's `aws s3 cp --recursive`; prints MB/s of both and the ratio.
// The server runs as its own process (`emi-recipe cloud serve`) so neither client shares
// its event loop. Options: --size-mib N (1024), --runs N (2, best run counts),
// --concurrency N (10, awscli's default max_concurrent_requests). Needs `npm run build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudClients } from '../src/cloud/clients.js';
import { sdkObjectStore } from '../src/cloud/object-store.js';
import { uploadBundle } from '../src/cloud/s3-upload.js';
import { staticCredentials, type CloudTarget } from '../src/cloud/target.js';
import { makeRandomBundle } from '../test/helpers/bundles.js';
import { repoPath } from '../test/helpers/paths.js';

const AWS = '/usr/bin/aws';
const MIB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name}: expected a positive number`);
  return value;
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      resolve({ code, stderr });
    });
  });
}

async function startServer(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [repoPath('bin', 'emi-recipe.js'), 'cloud', 'serve', '--port', '0', '--data-dir', dataDir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /127\.0\.0\.1:(\d+)\/services\/compute/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => {
      reject(new Error(`cloud serve exited with ${String(code)}: ${out}`));
    });
  });
  return { child, port };
}

function eucarcValue(text: string, name: string): string {
  const m = new RegExp(`^export ${name}='([^']*)'`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`${name} missing from eucarc`);
  return m[1];
}

async function main(): Promise<void> {
  const sizeMib = arg('size-mib', 1024);
  const runs = arg('runs', 2);
  const concurrency = arg('concurrency', 10);
  const work = await mkdtemp(join(tmpdir(), 'emi-bench-upload-'));
  const dataDir = join(work, 'cloud');
  const { child, port } = await startServer(dataDir);
  try {
    const eucarc = await readFile(join(dataDir, 'eucarc'), 'utf8');
    const accessKeyId = eucarcValue(eucarc, 'EC2_ACCESS_KEY');
    const secretAccessKey = eucarcValue(eucarc, 'EC2_SECRET_KEY');
    const s3 = `http://127.0.0.1:${port}/services/objectstorage`;
    const partSize = 10 * MIB;
    const partCount = Math.ceil((sizeMib * MIB) / partSize);
    console.log(
      `bench:upload: generating ${partCount} parts of 10 MiB (${sizeMib} MiB) in ${work}`,
    );
    const manifestPath = await makeRandomBundle({
      dir: join(work, 'bundle'),
      name: 'bench.img',
      partCount,
      partSize,
      account: eucarcValue(eucarc, 'EC2_USER_ID'),
      userKeyPem: await readFile(eucarcValue(eucarc, 'EC2_PRIVATE_KEY'), 'utf8'),
      userCertPem: await readFile(eucarcValue(eucarc, 'EC2_CERT'), 'utf8'),
      cloudCertPem: await readFile(eucarcValue(eucarc, 'EUCALYPTUS_CERT'), 'utf8'),
    });
    const totalBytes = partCount * partSize + (await readFile(manifestPath)).length;
    const awsConfig = join(work, 'aws-config');
    // Whole-object PUTs like euca-upload-bundle and emi-recipe (the local cloud has no multipart).
    await writeFile(
      awsConfig,
      `[default]\ns3 =\n    multipart_threshold = 1GB\n    max_concurrent_requests = ${concurrency}\n`,
    );
    const target: CloudTarget = {
      cloud: 'local',
      endpoints: { s3, ec2: `http://127.0.0.1:${port}/services/compute` },
      region: 'local',
      isAws: false,
      credentials: staticCredentials(accessKeyId, secretAccessKey),
      sources: { ec2: 'local-cloud', s3: 'local-cloud', credentials: 'local-cloud' },
    };
    const awsEnv = {
      PATH: process.env.PATH,
      HOME: work,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_DEFAULT_REGION: 'local',
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const mb = await run(
      AWS,
      ['--endpoint-url', `http://127.0.0.1:${port}`, 's3', 'mb', 's3://bench-aws'],
      awsEnv,
    );
    if (mb.code !== 0) throw new Error(`aws s3 mb failed: ${mb.stderr}`);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const clients = createCloudClients(target, { maxSockets: concurrency });
      const started = performance.now();
      const result = await uploadBundle({
        store: sdkObjectStore(clients.s3, s3),
        bucket: 'bench-emi',
        prefix: `run${i}`,
        manifestPath,
        concurrency,
        signal: new AbortController().signal,
      });
      const seconds = (performance.now() - started) / 1000;
      clients.destroy();
      if (!result.ok) throw new Error(`emi-recipe upload failed: ${JSON.stringify(result.error)}`);
      if (result.value.bytesSent !== totalBytes)
        throw new Error('emi-recipe skipped objects; each run needs a fresh prefix');
      ours.push(totalBytes / MIB / seconds);
      console.log(
        `  run ${i + 1}: emi-recipe uploadBundle  ${(totalBytes / MIB / seconds).toFixed(1)} MB/s (${seconds.toFixed(1)} s)`,
      );

      const awsStarted = performance.now();
      const aws = await run(
        AWS,
        [
          '--endpoint-url',
          `http://127.0.0.1:${port}`,
          's3',
          'cp',
          '--recursive',
          '--only-show-errors',
          join(work, 'bundle'),
          `s3://bench-aws/run${i}/`,
        ],
        awsEnv,
      );
      const awsSeconds = (performance.now() - awsStarted) / 1000;
      if (aws.code !== 0) throw new Error(`aws s3 cp failed (${String(aws.code)}): ${aws.stderr}`);
      theirs.push(totalBytes / MIB / awsSeconds);
      console.log(
        `  run ${i + 1}: aws s3 cp --recursive    ${(totalBytes / MIB / awsSeconds).toFixed(1)} MB/s (${awsSeconds.toFixed(1)} s)`,
      );
    }
    const best = (xs: number[]): number => Math.max(...xs);
    const ratio = best(ours) / best(theirs);
    console.log(
      `bench:upload: ${(totalBytes / MIB).toFixed(0)} MiB, concurrency ${concurrency}, best of ${runs}: ` +
        `emi-recipe ${best(ours).toFixed(1)} MB/s, awscli ${best(theirs).toFixed(1)} MB/s, ratio ${ratio.toFixed(2)} (target >= 0.90)`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(work, { recursive: true, force: true });
  }
}

await main();
