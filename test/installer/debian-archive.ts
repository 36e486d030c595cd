// Test-harness access to a Debian archive mirror (the first main archive in this host's apt
// sources; no host is written here): Packages indexes, .debs cached on disk, unpacking.
// Test code only: the product never fetches installers or packages like this.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installerMirror, type InstallerMirror } from '../../src/guest/answers/installer-mirror.js';
import { hostAptSources } from '../../src/steps/install-debootstrap.js';

/** One stanza of a Packages index: field name -> value. */
export type Stanza = ReadonlyMap<string, string>;

export function parsePackages(text: string): Stanza[] {
  return text
    .split(/\n\s*\n/)
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of s.split('\n')) {
        if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last) ?? ''}\n${line}`);
        else {
          const i = line.indexOf(':');
          if (i > 0) {
            last = line.slice(0, i);
            fields.set(last, line.slice(i + 1).trim());
          }
        }
      }
      return fields;
    });
}

export class DebianArchive {
  readonly base: string;
  readonly mirror: InstallerMirror;
  readonly #cache: string;

  private constructor(mirror: InstallerMirror, cache: string) {
    this.mirror = mirror;
    this.base = `${mirror.protocol}://${mirror.hostname}${mirror.directory === '/' ? '' : mirror.directory}`;
    this.#cache = cache;
    mkdirSync(cache, { recursive: true });
  }

  /** The host's mirror, or an error saying the host has none. */
  static async fromHost(cache: string): Promise<DebianArchive> {
    const mirror = installerMirror(await hostAptSources());
    if (!mirror) throw new Error("no Debian mirror in this host's apt sources");
    return new DebianArchive(mirror, cache);
  }

  /** GET a path below the archive root; null on 404. */
  async get(path: string): Promise<Buffer | null> {
    const r = await fetch(`${this.base}/${path}`);
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`GET ${this.base}/${path}: HTTP ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  }

  async exists(path: string): Promise<boolean> {
    const r = await fetch(`${this.base}/${path}`, { method: 'HEAD' });
    return r.ok;
  }

  /** A file below the archive root, cached under its base name. */
  async cached(path: string): Promise<string> {
    const file = join(this.#cache, path.replace(/\//g, '_'));
    if (existsSync(file)) return file;
    const body = await this.get(path);
    if (!body) throw new Error(`not on the mirror: ${path}`);
    writeFileSync(`${file}.part`, body);
    renameSync(`${file}.part`, file);
    return file;
  }

  /** A suite's Packages index (xz), parsed. */
  async packages(suite: string, section: string): Promise<Stanza[]> {
    const xz = await this.cached(`dists/${suite}/${section}/Packages.xz`);
    return parsePackages(execFileSync('xz', ['-dc', xz], { maxBuffer: 1 << 30, encoding: 'utf8' }));
  }

  /** Downloads a package's .deb and unpacks it into a cached directory. */
  async unpack(stanza: Stanza): Promise<string> {
    const filename = stanza.get('Filename');
    if (!filename) throw new Error(`no Filename for ${stanza.get('Package') ?? '?'}`);
    const deb = await this.cached(filename);
    const dir = `${deb}.d`;
    if (!existsSync(dir)) {
      mkdirSync(`${dir}.part`, { recursive: true });
      execFileSync('dpkg-deb', ['-x', deb, `${dir}.part`]);
      renameSync(`${dir}.part`, dir);
    }
    return dir;
  }

  readCached(path: string): Buffer {
    return readFileSync(join(this.#cache, path.replace(/\//g, '_')));
  }
}

export function findPackage(index: readonly Stanza[], name: string): Stanza {
  const found = index.find((s) => s.get('Package') === name);
  if (!found) throw new Error(`package ${name} is not in the index`);
  return found;
}
