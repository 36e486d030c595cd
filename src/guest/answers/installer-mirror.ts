// The archive mirror the Debian installer downloads its components and the base system
// from, as the preseed's mirror/* answers: taken from this host's apt sources at run time
// (no mirror host is written into emi-recipe). Pure: the sources are read by the caller.

/** One apt source as the host's sources list names it (tools/debootstrap.ts parses them). */
export interface AptSourceEntry {
  readonly uri: string;
  readonly suites: readonly string[];
}

/** A mirror as choose-mirror's questions want it: mirror/<protocol>/{hostname,directory}. */
export interface InstallerMirror {
  readonly protocol: 'http' | 'https';
  /** Host name, with ":port" when the URI has one. */
  readonly hostname: string;
  /** The archive's directory on the host, "/debian"; never empty and never "/" + "/dists". */
  readonly directory: string;
}

/**
 * The first main-archive source among `sources` as installer mirror answers: an http(s)
 * URI serving a release suite (one without a "-security"/"-updates" style suffix), so the
 * security archive is never taken for the mirror. null when the host names none (then the
 * installer's own choice for the country applies).
 */
export function installerMirror(sources: readonly AptSourceEntry[]): InstallerMirror | null {
  for (const source of sources) {
    if (!source.suites.some((s) => /^[a-z]+$/.test(s))) continue;
    let url: URL;
    try {
      url = new URL(source.uri);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    if (/-security\/?$/.test(url.pathname) || url.username) continue;
    // d-i joins directory and "/dists/…" itself: a bare "/" would ask for "//dists/…".
    const directory = url.pathname.replace(/\/+$/, '');
    return {
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      hostname: url.host,
      directory: directory === '' ? '/' : directory,
    };
  }
  return null;
}
