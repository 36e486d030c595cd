// debootstrap: a Debian/Ubuntu base system in a directory. Pure argv builder, a
// progress parser for its "I: …" lines, the host's apt sources parser (for the
// mirror), and one exec call. Needs root (it chroots and creates device nodes).
import type { ToolFailure } from '../core/failure.js';
import type { Result } from '../core/result.js';
import type { TaskContext } from '../core/task.js';
import type { Exec, ExecResult } from './exec.js';

/** Debian's name for an architecture. */
export const DEBIAN_ARCH = { x86_64: 'amd64', i386: 'i386' } as const;

export interface DebootstrapOptions {
  readonly suite: string;
  readonly target: string;
  readonly arch: keyof typeof DEBIAN_ARCH;
  readonly variant: 'minbase' | 'buildd' | 'default';
  readonly components: readonly string[];
  /** Packages added to the base (--include). */
  readonly include: readonly string[];
  /** null: debootstrap's default mirror. */
  readonly mirror: string | null;
  /** An absolute directory where downloaded .debs are kept between runs (optional). */
  readonly cacheDir?: string;
}

/**
 * debootstrap (a shell script) reads every argument that starts with '-' as an option
 * and has no `--` to end them (`-*)` is "unrecognized option"), and --include is a
 * comma-separated list. So the values it gets must be shaped so that they cannot be
 * read as anything else; the recipe's validation already ensures it, and a value that
 * slips through is a bug, not a user error.
 */
const SHAPES = {
  suite: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
  component: /^[a-z0-9][a-z0-9-]*$/,
  package: /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+|\/[a-z0-9-]+)?$/,
  // Ours, not the recipe's (absolute, or a placeholder such as <tmp>/tree in plans).
  path: /^[^-]/,
  // Also what the host's apt sources may hold (mirror+file:…, cdrom:…): anything but an option.
  mirror: /^[^-\s]\S*$/,
} as const;

function checked(kind: keyof typeof SHAPES, value: string): string {
  if (!SHAPES[kind].test(value))
    throw new Error(`debootstrapArgs: refusing ${kind} ${JSON.stringify(value)} (not validated?)`);
  return value;
}

/** The debootstrap command line (without the program name). Throws on an option-like value. */
export function debootstrapArgs(o: DebootstrapOptions): string[] {
  for (const component of o.components) checked('component', component);
  for (const name of o.include) checked('package', name);
  const args = [
    ...(o.variant === 'default' ? [] : [`--variant=${o.variant}`]),
    `--arch=${DEBIAN_ARCH[o.arch]}`,
    `--components=${o.components.join(',')}`,
  ];
  if (o.include.length > 0) args.push(`--include=${o.include.join(',')}`);
  if (o.cacheDir) args.push(`--cache-dir=${checked('path', o.cacheDir)}`);
  args.push(checked('suite', o.suite), checked('path', o.target));
  if (o.mirror) args.push(checked('mirror', o.mirror));
  return args;
}

/** debootstrap's phases in order, with the share of the total time each takes (measured). */
const PHASES = [
  { pattern: /^I: Retrieving Release/, percent: 1, message: 'fetching the release file' },
  { pattern: /^I: (Retrieving|Validating) /, percent: 5, message: 'downloading packages' },
  { pattern: /^I: Extracting /, percent: 25, message: 'extracting' },
  { pattern: /^I: Installing core packages/, percent: 30, message: 'installing core packages' },
  { pattern: /^I: Unpacking /, percent: 40, message: 'unpacking' },
  { pattern: /^I: Configuring /, percent: 60, message: 'configuring' },
  { pattern: /^I: Base system installed successfully/, percent: 100, message: 'done' },
] as const;

/** The phase an output line announces, as a rough percentage and a phrase; null for other lines. */
export function parseDebootstrapLine(line: string): { percent: number; message: string } | null {
  for (let i = PHASES.length - 1; i >= 0; i -= 1) {
    const phase = PHASES[i];
    if (phase && phase.pattern.test(line)) {
      const name = /^I: \S+ (\S+)/.exec(line)?.[1];
      const detail =
        name && !/^(core|system|packages\.\.\.)/.test(name)
          ? ` ${name.replace(/\.\.\.$/, '')}`
          : '';
      return { percent: phase.percent, message: `${phase.message}${detail}` };
    }
  }
  return null;
}

/** One source of apt's configuration: `deb` URIs and their suites. */
export interface AptSource {
  readonly uri: string;
  readonly suites: readonly string[];
}

/**
 * Parses apt sources: one-line format (`deb [opts] URI SUITE COMPONENTS…`) and deb822
 * `.sources` stanzas (Types/URIs/Suites). `deb-src` and disabled stanzas are skipped.
 */
export function parseAptSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  const isDeb822 = /^\s*(Types|URIs)\s*:/im.test(text);
  if (!isDeb822) {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (match?.[1] && match[2]) sources.push({ uri: match[1], suites: [match[2]] });
    }
    return sources;
  }
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string[] => {
      const match = new RegExp(`^${name}\\s*:(.*)$`, 'im').exec(stanza.replace(/^#.*$/gm, ''));
      return match?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
    };
    if (!field('Types').includes('deb')) continue;
    if (field('Enabled')[0]?.toLowerCase() === 'no') continue;
    const suites = field('Suites');
    for (const uri of field('URIs')) sources.push({ uri, suites });
  }
  return sources;
}

/**
 * The mirror for `suite` from the host's sources: the first URI that serves that very
 * suite (so a Debian host never hands its mirror to an Ubuntu suite). null: none does,
 * and debootstrap's own default applies.
 */
export function mirrorForSuite(sources: readonly AptSource[], suite: string): string | null {
  return sources.find((s) => s.suites.includes(suite))?.uri ?? null;
}

/** Runs debootstrap in its own process group (it forks dpkg and chroots), streaming its output. */
export function runDebootstrap(
  exec: Exec,
  ctx: TaskContext,
  options: DebootstrapOptions,
  onLine: (line: string) => void,
): Promise<Result<ExecResult, ToolFailure>> {
  return exec('debootstrap', debootstrapArgs(options), {
    signal: ctx.signal,
    group: true,
    keepStdout: false,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    onLine,
  });
}
