// npm run bench:bundle — the bundler against the classic shell pipeline
// (tar | gzip -6 | openssl enc -aes-128-cbc | split, plus sha1sum) and the same with pigz,
// on (a) a 4 GiB sparse ext4 image holding ~1 GiB of real files and (b) 512 MiB of random
// bytes. Prints wall time, MB/s of image, the ratio to the gzip pipeline and peak RSS, and
// checks that the bundler's bundle unpacks to the same image. Inputs live in a temp dir.
//
// Options: --keep (keep the temp dir), --only=a|b, BENCH_ROOTFS=DIR (use this file tree for
// (a) instead of running debootstrap). Needs root for debootstrap; falls back to random and
// text files when debootstrap cannot run.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length);
const work = mkdtempSync(join(tmpdir(), 'emi-bench-'));

interface Measured {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
}

interface Row {
  readonly input: string;
  readonly tool: string;
  readonly measured: Measured;
  /** Image size. */
  readonly bytes: number;
  /** Bytes of the output directory (parts, manifest or digests). */
  readonly bundled: number;
}

function log(line: string): void {
  console.error(`[bench] ${line}`);
}

function run(
  file: string,
  argv: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): string {
  const r = spawnSync(file, [...argv], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30 * 60_000,
    maxBuffer: 64 * MIB,
  });
  if (r.status !== 0)
    throw new Error(
      `${file} ${argv.join(' ')} failed (${String(r.status ?? r.signal)}): ${r.stderr.slice(-2000)}`,
    );
  return r.stdout;
}

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Sum of the resident memory of every process in process group `pgid`, in bytes. */
function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const statm = readFileSync(`/proc/${entry}/statm`, 'utf8').split(' ');
      total += Number(statm[1]) * 4096;
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

/**
 * Runs a shell script in its own process group: wall time, CPU time of everything it ran
 * (bash's `times`, so figures stay comparable when other work shares the CPUs) and peak
 * summed RSS of the group (sampled every 50 ms).
 */
function measure(script: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-c', `${script}\ntimes`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-4000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, groupRss(child.pid));
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) {
        reject(new Error(`${script} exited ${String(code)}: ${stderr}`));
        return;
      }
      // `times` prints the shell's then its children's user and system time: "0m1.234s 0m0.567s".
      const children = stdout.trim().split('\n').pop() ?? '';
      const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
        0,
      );
      resolve({ seconds, cpuSeconds, peakRssMiB: peak / MIB });
    });
  });
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function keys(): { userKey: string; userCert: string; cloudCert: string } {
  const make = (name: string): void => {
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(work, `${name}-key.pem`),
      '-out',
      join(work, `${name}-cert.pem`),
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
    ]);
  };
  make('user');
  make('cloud');
  return {
    userKey: join(work, 'user-key.pem'),
    userCert: join(work, 'user-cert.pem'),
    cloudCert: join(work, 'cloud-cert.pem'),
  };
}

/** The first deb URI of the host's apt sources (deb822 or one-line format), if any. */
function hostMirror(): string | undefined {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822?.[1] !== undefined) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text);
    if (oneLine?.[1] !== undefined) return oneLine[1];
  }
  return undefined;
}

function duBytes(dir: string): number {
  return Number(run('du', ['-sb', dir]).split('\t')[0]);
}

/** A tree of real files: debootstrap (minbase), else generated random + text files. */
function fileTree(): { dir: string; origin: string } {
  const fromEnv = process.env.BENCH_ROOTFS;
  if (fromEnv !== undefined) return { dir: fromEnv, origin: `files from ${fromEnv}` };
  const dir = join(work, 'debootstrap');
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(
    existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '',
  )?.[1];
  if (has('debootstrap') && process.getuid?.() === 0 && codename !== undefined) {
    const mirror = hostMirror();
    log(`debootstrap --variant=minbase ${codename} (a few minutes)…`);
    const r = spawnSync(
      'debootstrap',
      ['--variant=minbase', codename, dir, ...(mirror !== undefined ? [mirror] : [])],
      { encoding: 'utf8', timeout: 20 * 60_000 },
    );
    if (r.status === 0) return { dir, origin: `debootstrap ${codename} minbase` };
    log(
      `debootstrap failed (${String(r.status ?? r.signal)}); using random and text files instead`,
    );
    rmSync(dir, { recursive: true, force: true });
  } else {
    log('debootstrap not usable here (needs root and debootstrap); using random and text files');
  }
  mkdirSync(dir);
  const words =
    'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their can has more will would if so no what up out about into than them only some could time these two may then do first any like now my such make over our even most me state after also made many did must before back see through way where get much go well down should because each just those people how too little us good very'.split(
      ' ',
    );
  let seed = 1;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let f = 0; f < 64; f += 1) {
    if (f % 3 === 0) writeFileSync(join(dir, `blob-${f}.bin`), randomBytes(4 * MIB));
    else {
      const lines: string[] = [];
      for (let l = 0; l < 40_000; l += 1)
        lines.push(
          Array.from({ length: 8 + (next() % 8) }, () => words[next() % words.length]).join(' '),
        );
      writeFileSync(join(dir, `text-${f}.txt`), lines.join('\n'));
    }
  }
  return { dir, origin: 'generated random (1/3) and text (2/3) files' };
}

/** (a): a 4 GiB sparse ext4 image holding about 1 GiB of files (copies of the tree). */
function sparseImage(): { path: string; label: string } {
  const tree = fileTree();
  const treeBytes = duBytes(tree.dir);
  const source = join(work, 'source');
  mkdirSync(source);
  let copies = 0;
  while (copies * treeBytes < GIB) {
    run('cp', ['-a', tree.dir, join(source, `copy-${copies}`)]);
    copies += 1;
  }
  const path = join(work, 'sparse-4g.img');
  run('truncate', ['-s', '4G', path]);
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', source, path]);
  rmSync(source, { recursive: true, force: true });
  if (tree.dir.startsWith(work) && !args.has('--keep'))
    rmSync(tree.dir, { recursive: true, force: true });
  const allocated = Number(run('du', ['-B1', path]).split('\t')[0]);
  return {
    path,
    label: `(a) 4 GiB sparse ext4, ${(allocated / GIB).toFixed(2)} GiB allocated (${copies}× ${tree.origin})`,
  };
}

/** (b): 512 MiB of random bytes. */
function randomImage(): { path: string; label: string } {
  const path = join(work, 'random-512m.img');
  const fd = openSync(path, 'w');
  for (let i = 0; i < 512; i += 1) writeSync(fd, randomBytes(MIB));
  closeSync(fd);
  return { path, label: '(b) 512 MiB random' };
}

const KEY_HEX = randomBytes(16).toString('hex');
const IV_HEX = randomBytes(16).toString('hex');

function pipeline(image: string, out: string, compressor: 'gzip -6' | 'pigz -6'): string {
  const dir = image.slice(0, image.lastIndexOf('/'));
  const name = image.slice(image.lastIndexOf('/') + 1);
  return [
    'set -euo pipefail',
    `mkfifo ${q(join(out, 'tar.fifo'))}`,
    `sha1sum < ${q(join(out, 'tar.fifo'))} > ${q(join(out, 'tar.sha1'))} &`,
    `tar -cf - -C ${q(dir)} ${q(name)} | tee ${q(join(out, 'tar.fifo'))} | ${compressor} | openssl enc -e -aes-128-cbc -K ${KEY_HEX} -iv ${IV_HEX} | split -b 10485760 -d -a 2 - ${q(join(out, `${name}.part.`))}`,
    'wait',
    `sha1sum ${q(out)}/*.part.* > ${q(join(out, 'parts.sha1'))}`,
  ].join('\n');
}

async function benchInput(
  input: { path: string; label: string },
  k: ReturnType<typeof keys>,
): Promise<Row[]> {
  const bytes = Number(run('stat', ['-c', '%s', input.path]).trim());
  const rows: Row[] = [];
  const fresh = (name: string): string => {
    const dir = join(work, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    return dir;
  };
  for (const [program, compressor] of [
    ['gzip', 'gzip -6'],
    ['pigz', 'pigz -6'],
  ] as const) {
    if (!has(program)) {
      log(`${compressor} not installed: skipped`);
      continue;
    }
    const out = fresh(`pipeline-${program}`);
    log(`${input.label}: ${compressor} pipeline…`);
    const measured = await measure(pipeline(input.path, out, compressor));
    rmSync(join(out, 'tar.fifo'), { force: true });
    rows.push({
      input: input.label,
      tool: `${program} pipeline`,
      bytes,
      measured,
      bundled: duBytes(out),
    });
    rmSync(out, { recursive: true, force: true });
  }
  for (const variant of ['default', 'always-deflate'] as const) {
    const out = fresh('emi-recipe');
    const tool = `emi-recipe${variant === 'always-deflate' ? ' --always-deflate' : ''}`;
    log(`${input.label}: ${tool}…`);
    const measured = await measure(
      [
        process.execPath,
        join(REPO, 'bin', 'emi-recipe.js'),
        'bundle-image',
        '-i',
        input.path,
        '-r',
        'x86_64',
        '-c',
        k.userCert,
        '-k',
        k.userKey,
        '--ec2cert',
        k.cloudCert,
        '-u',
        '123456789012',
        '-d',
        out,
        '--no-progress',
        ...(variant === 'always-deflate' ? ['--always-deflate'] : []),
      ]
        .map(q)
        .join(' '),
    );
    rows.push({ input: input.label, tool, bytes, measured, bundled: duBytes(out) });
    log('checking that the bundle unpacks to the same image…');
    const name = input.path.slice(input.path.lastIndexOf('/') + 1);
    const restored = fresh('restored');
    run(process.execPath, [
      join(REPO, 'bin', 'emi-recipe.js'),
      'unbundle',
      '-m',
      join(out, `${name}.manifest.xml`),
      '-k',
      k.userKey,
      '-d',
      restored,
      '--no-progress',
    ]);
    run('cmp', [input.path, join(restored, name)]);
    log('same image: yes');
    rmSync(restored, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const lines = [['input', 'tool', 'seconds', 'MB/s', 'vs gzip', 'CPU s', 'peak RSS', 'output']];
  for (const row of rows) {
    const gzip = rows.find((r) => r.input === row.input && r.tool === 'gzip pipeline');
    const ratio =
      gzip === undefined ? '' : `${(gzip.measured.seconds / row.measured.seconds).toFixed(2)}×`;
    lines.push([
      row.input,
      row.tool,
      row.measured.seconds.toFixed(1),
      (row.bytes / 1e6 / row.measured.seconds).toFixed(0),
      ratio,
      row.measured.cpuSeconds.toFixed(1),
      `${row.measured.peakRssMiB.toFixed(0)} MiB`,
      `${(row.bundled / MIB).toFixed(0)} MiB`,
    ]);
  }
  const widths = [0, 1, 2, 3, 4, 5, 6, 7].map((c) =>
    Math.max(...lines.map((l) => (l[c] ?? '').length)),
  );
  return lines
    .map((l) =>
      l
        .map((cell, c) => (c >= 2 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

async function main(): Promise<void> {
  for (const tool of ['tar', 'openssl', 'split', 'sha1sum', 'mke2fs', 'cmp']) {
    if (!has(tool)) throw new Error(`${tool} is needed (scripts/install-host-tools)`);
  }
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('run npm run build first');
  log(
    `work dir ${work}; ${cpus().length} CPUs; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  const k = keys();
  const rows: Row[] = [];
  if (only !== 'b') {
    log('building input (a)…');
    rows.push(...(await benchInput(sparseImage(), k)));
    rmSync(join(work, 'sparse-4g.img'), { force: true });
  }
  if (only !== 'a') {
    log('building input (b)…');
    rows.push(...(await benchInput(randomImage(), k)));
  }
  console.log(table(rows));
  console.log(
    `load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (other work on this machine skews the figures)`,
  );
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => {
    if (args.has('--keep')) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });
