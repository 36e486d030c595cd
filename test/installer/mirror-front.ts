// A front for the host's mirror on loopback, for the real-installer test only (the guest
// reaches it as 10.0.2.2:PORT through QEMU's user network). It works around this
// machine's mirror, never a user's: an unsigned Release whose hashes match what it serves
// (the mirror's Release.gpg does not verify), and an installer-component index without
// the components the mirror does not have (kernel-module udebs for the installer's kernel,
// and a few others). Everything else is passed through.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { DebianArchive, Stanza } from './debian-archive.js';

export interface MirrorFront {
  readonly port: number;
  /** Components left out of the installer index (not on the mirror). */
  readonly missing: readonly string[];
  close(): Promise<void>;
}

function stanzaText(s: Stanza): string {
  return [...s].map(([k, v]) => `${k}: ${v}`).join('\n');
}

const hashes = (body: Buffer): { md5: string; sha256: string } => ({
  md5: createHash('md5').update(body).digest('hex'),
  sha256: createHash('sha256').update(body).digest('hex'),
});

export async function startMirrorFront(
  archive: DebianArchive,
  options: { suite: string; udebs: readonly Stanza[]; log: (line: string) => void },
): Promise<MirrorFront> {
  const { suite } = options;
  // Which installer components the mirror really has (HEAD each, a few at a time).
  const missing: string[] = [];
  const kept: Stanza[] = [];
  const queue = [...options.udebs];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const name = s.get('Package') ?? '';
        if (await archive.exists(s.get('Filename') ?? '')) kept.push(s);
        else missing.push(name);
      }
    }),
  );
  kept.sort((a, b) => (a.get('Package') ?? '').localeCompare(b.get('Package') ?? ''));
  const udebIndex = Buffer.from(`${kept.map(stanzaText).join('\n\n')}\n`);
  const served = new Map<string, Buffer>([
    ['main/debian-installer/binary-amd64/Packages', udebIndex],
    ['main/debian-installer/binary-amd64/Packages.gz', gzipSync(udebIndex)],
  ]);
  // apt (unlike debootstrap) takes an index as present only when the Release lists its
  // uncompressed name (main/binary-amd64/Packages), as Debian's Release does: without
  // it, `apt-get update` in /target fetched no Packages at all and base-installer found
  // no kernel ("Package 'locales' has no installation candidate", "Found kernels ''").
  // install-firmware enables non-free-firmware for CPU microcode, so that is served too.
  const components = ['main'];
  for (const section of [
    'main/binary-amd64',
    'main/binary-all',
    'non-free-firmware/binary-amd64',
  ]) {
    const xz = await archive.get(`dists/${suite}/${section}/Packages.xz`);
    if (!xz) continue;
    served.set(`${section}/Packages.xz`, xz);
    served.set(
      `${section}/Packages`,
      execFileSync('xz', ['-dc'], { input: xz, maxBuffer: 1 << 30 }),
    );
    const component = section.split('/')[0] ?? 'main';
    if (!components.includes(component)) components.push(component);
  }
  const upstream = (await archive.get(`dists/${suite}/Release`))?.toString('utf8') ?? '';
  const field = (name: string): string =>
    new RegExp(`^${name}: (.*)$`, 'm').exec(upstream)?.[1] ?? '';
  const entries = [...served].map(([path, body]) => ({ path, size: body.length, ...hashes(body) }));
  const release = Buffer.from(
    [
      `Origin: ${field('Origin')}`,
      `Label: ${field('Label')}`,
      `Suite: ${field('Suite')}`,
      `Version: ${field('Version')}`,
      `Codename: ${suite}`,
      `Date: ${field('Date')}`,
      'Architectures: amd64 all',
      // Kept from the upstream Release: binary-amd64 holds the arch-all packages too, and
      // clients must not read binary-all (on this mirror it lags behind: vim-common
      // 2:9.1.1230-2 there, 2:9.1.1230-2+deb13u2 in binary-amd64, so debootstrap installed
      // a vim-common that vim-tiny's exact-version Depends rejects and base-installer
      // failed with "Failure while configuring base packages").
      ...(/^No-Support-for-Architecture-all: Packages$/m.test(upstream)
        ? ['No-Support-for-Architecture-all: Packages']
        : []),
      `Components: ${components.join(' ')}`,
      `Description: ${field('Description')} (unsigned test front)`,
      'MD5Sum:',
      ...entries.map((e) => ` ${e.md5} ${e.size} ${e.path}`),
      'SHA256:',
      ...entries.map((e) => ` ${e.sha256} ${e.size} ${e.path}`),
      '',
    ].join('\n'),
  );

  const dir = archive.mirror.directory === '/' ? '' : archive.mirror.directory;
  const dists = `${dir}/dists/${suite}/`;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const reply = (status: number, body?: Buffer): void => {
      options.log(`${req.method ?? 'GET'} ${url} -> ${String(status)}`);
      res.writeHead(status, body ? { 'content-length': body.length } : {});
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.startsWith(dists)) {
      const rest = url.slice(dists.length);
      const body =
        rest === 'Release'
          ? release
          : rest === 'InRelease' || rest === 'Release.gpg'
            ? null
            : served.get(rest);
      if (body === null) {
        reply(404);
        return;
      }
      if (body) {
        reply(200, body);
        return;
      }
      // Anything else (choose-mirror checks main/binary-amd64/Release) passes through.
    }
    if (!url.startsWith(`${dir}/`)) {
      reply(404);
      return;
    }
    fetch(`${archive.base}${url.slice(dir.length)}`, { method: req.method })
      .then(async (r) => {
        reply(r.status, Buffer.from(await r.arrayBuffer()));
      })
      .catch(() => {
        reply(502);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    missing: missing.sort(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
