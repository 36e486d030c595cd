// npm run bench:store — fresh CI runners against a warm shared store (issue 13), with the
// real tools on this machine, the store in the embedded cloud:
//  1. a fresh runner's apply of an unchanged recipes/debian-minimal.yaml against a warm
//     store (target: under 10 s), and the bytes it moved;
//  2. a one-package change (customize.packages += nano) applied by a fresh runner against
//     the store (target: within 1.3x of 3.), and the bytes it moved;
//  3. the same change in a warm local work directory (no store), the reference.
// Setup, not timed as targets: a full build in the local work directory (for 3.), and a
// full build by "runner W" against the store (which warms it).
// The embedded cloud is served by this process, behind a TCP proxy that counts the bytes
// each run sends and receives (server.json names the proxy, so every apply goes through
// it): store reads and writes, cache blobs, and publishing (bundle parts, registrations).
// The reference's own cloud is started by its apply, not counted.
// The load average is printed: the machine is shared; compare the ratios, not the seconds.
// `--keep` leaves the work directories (each runner's logs) and the cloud's data in place.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { localCloudDataDir } from '../src/local-cloud/publish-target.js';
import { startLocalCloud } from '../src/local-cloud/server.js';
import { writeServerFile } from '../src/local-cloud/server-file.js';
import { formatSize } from '../src/recipe/units.js';
import { repoPath } from '../test/helpers/paths.js';

const STORE = 's3://emi-bench-store/ci';
const dir = mkdtempSync(join(tmpdir(), 'emi-bench-store-'));
const recipe = join(dir, 'debian-minimal.yaml');
copyFileSync(repoPath('recipes', 'debian-minimal.yaml'), recipe);
// The reference (3.) in a folder of its own, so with an embedded cloud of its own: two
// work directories registering the same image names in one cloud would step on each other.
const refRecipe = join(dir, 'reference', 'debian-minimal.yaml');
mkdirSync(join(dir, 'reference'));
copyFileSync(recipe, refRecipe);
const load = (): string => `load average ${loadavg()[0]?.toFixed(1) ?? '?'}`;

/** A TCP proxy in front of 127.0.0.1:`target` counting bytes each way. */
async function countingProxy(target: number) {
  const counts = { up: 0, down: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      counts.up += d.length;
    });
    upstream.on('data', (d: Buffer) => {
      counts.down += d.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    counts,
    reset: () => {
      counts.up = 0;
      counts.down = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const dataDir = localCloudDataDir(dir);
const started = await startLocalCloud({ dataDir });
if (!started.ok)
  throw new Error(`the embedded cloud did not start: ${JSON.stringify(started.error)}`);
const cloud = started.value;
const proxy = await countingProxy(cloud.port);
// Every apply opens the cloud of the recipe's folder through server.json: name the proxy.
await writeServerFile(dataDir, { pid: process.pid, host: '127.0.0.1', port: proxy.port });

interface Run {
  readonly seconds: number;
  readonly stdout: string;
  readonly up: number;
  readonly down: number;
}

/** Runs `emi-recipe apply` (without blocking: this process serves the cloud). */
function apply(workDir: string, extra: readonly string[], file = recipe): Promise<Run> {
  return cli(['apply', file, '--no-progress', '--work-dir', workDir, ...extra]);
}

function cli(args: readonly string[], okCodes: readonly number[] = [0]): Promise<Run> {
  proxy.reset();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'emi-recipe.js'), ...args], {
      cwd: dir,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (!okCodes.includes(code ?? -1)) {
        console.error(stdout, stderr);
        reject(new Error(`emi-recipe ${args.join(' ')} exited with ${String(code)}`));
        return;
      }
      resolve({ seconds, stdout, up: proxy.counts.up, down: proxy.counts.down });
    });
  });
}

function report(
  label: string,
  run: Run,
  target?: { seconds: number; text: string },
  counted = true,
): void {
  const verdict =
    target === undefined
      ? ''
      : `   (target ${target.text}: ${run.seconds <= target.seconds ? 'meets' : 'MISSES'})`;
  console.log(`${label.padEnd(52)} ${run.seconds.toFixed(2).padStart(8)} s${verdict}`);
  console.log(
    counted
      ? `  bytes moved: ${formatSize(run.up)} sent, ${formatSize(run.down)} received (${load()})`
      : `  (its own embedded cloud: bytes not counted; ${load()})`,
  );
}

const steps = (stdout: string): string =>
  [...stdout.matchAll(/✓ ([a-z-]+) \(([^)]+)\)/g)]
    .map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`)
    .join(', ');

const store = ['--store', STORE];
const local = join(dir, 'local');
try {
  if (process.argv.includes('--smoke')) {
    // The plumbing only (cloud, proxy, server.json): one store read, no build.
    const ls = await cli(['cache', 'ls', recipe, ...store], [0, 1]);
    report('smoke: cache ls through the proxy', ls);
    if (ls.up === 0) throw new Error('the CLI did not go through the proxy');
  } else await benchmark();
} finally {
  await proxy.close();
  await cloud.close();
  if (process.argv.includes('--keep')) console.log(`kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

async function benchmark(): Promise<void> {
  console.log(`emi-recipe shared store, recipes/debian-minimal.yaml, in ${dir} (${load()})`);
  report(
    'setup: full build, local work directory',
    await apply(local, [], refRecipe),
    undefined,
    false,
  );
  const warm = await apply(join(dir, 'runner-w'), store);
  report('setup: full build by runner W, warming the store', warm);
  const fresh = await apply(join(dir, 'runner-f1'), store);
  report('1. fresh runner, unchanged recipe, warm store', fresh, { seconds: 10, text: '< 10 s' });
  console.log(`  steps run: ${steps(fresh.stdout) || 'none'}`);
  for (const file of [recipe, refRecipe])
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('packages: [less]', 'packages: [less, nano]'),
    );
  const reference = await apply(local, [], refRecipe);
  const change = await apply(join(dir, 'runner-f2'), store);
  report('2. fresh runner, one-package change, warm store', change, {
    seconds: reference.seconds * 1.3,
    text: `≤ 1.3x of 3. = ${(reference.seconds * 1.3).toFixed(1)} s`,
  });
  console.log(`  steps run: ${steps(change.stdout)}`);
  report('3. the same change, warm local work directory', reference, undefined, false);
  console.log(`  steps run: ${steps(reference.stdout)}`);
  console.log(
    `fresh runner's change vs warm local: ${(change.seconds / reference.seconds).toFixed(2)}x`,
  );
  if (/✓ install-os/.test(change.stdout))
    console.log(
      '  note: the fresh runner ran install-os again (its output did not come from the cache)',
    );
}
