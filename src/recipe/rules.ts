// Cross-field checks the schema cannot express: conflicting sources, duplicate users,
// package names, paths that escape the recipe folder, sizes in range, inputs present.
// Runs on the schema-checked recipe with its invalid parts pruned. File existence comes in
// through `fileExists`. Sizes and durations are parsed here, once (rules-sizes.ts); the publish and bundle checks are rules-publish.ts, hvm's rules-hvm.ts.
import { isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic, Severity } from '../core/diagnostic.js';
import { formatPath, type ValuePath } from './source-map.js';
import { closest } from './suggest.js';
import { checkSizes, type RecipeSizes } from './rules-sizes.js';
import { checkHvm } from './rules-hvm.js';
import { checkStore } from './rules-store.js';
import { checkInputFile, type Report, type RuleContext } from './rule-context.js';
import { checkPublishAndBundle } from './rules-publish.js';

/** Debian policy §5.6.1 (package names), with an optional =version or /release. */
const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+|\/[a-z0-9-]+)?$/;
const ISO_ONLY_KEYS = ['answers', 'answerFile', 'swap', 'kernelArgs', 'vm'] as const;

/** What the rules found, and the recipe's sizes parsed on the way. */
export interface RuleOutcome {
  /** Every problem found, unsorted. */
  readonly diagnostics: readonly Diagnostic[];
  /** Undefined when a size or duration is missing or bad (then `diagnostics` says where). */
  readonly sizes: RecipeSizes | undefined;
}

/** Runs every rule. Never throws on partial data. */
export function checkRules(context: RuleContext): RuleOutcome {
  const out: Diagnostic[] = [];
  const { parsed } = context;
  const report = (
    severity: Severity,
    path: ValuePath,
    message: string,
    extra: { part?: 'key' | 'value'; related?: Diagnostic['related'] } = {},
  ): void => {
    out.push({
      severity,
      message: path.length > 0 ? `\`${formatPath(path)}\`: ${message}` : message,
      location: parsed.sourceMap.locate(path, { part: extra.part ?? 'value' }),
      path: formatPath(path),
      ...(extra.related ? { related: extra.related } : {}),
    });
  };
  checkInstall(context, report);
  checkCustomize(context, report);
  const sizes = checkSizes(context, report);
  checkPublishAndBundle(context, report);
  checkTest(context, report);
  checkHvm(context, report);
  checkStore(context, report);
  return { diagnostics: out, sizes };
}

function checkInstall(context: RuleContext, report: Report): void {
  const install = context.raw.install;
  if (!install) return;
  if (install.iso && install.debootstrap) {
    report('error', ['install', 'debootstrap'], 'give either `iso` or `debootstrap`, not both', {
      part: 'key',
    });
  } else if (!install.iso && !install.debootstrap) {
    report(
      'error',
      ['install'],
      'no install source: give `iso` (with `answers`) or `debootstrap`',
      { part: 'key' },
    );
  }
  if (install.iso) {
    const { path, url } = install.iso;
    if (path !== undefined && url !== undefined) {
      report('error', ['install', 'iso', 'url'], 'give either `path` or `url`, not both', {
        part: 'key',
      });
    } else if (path === undefined && url === undefined) {
      report(
        'error',
        ['install', 'iso'],
        'expected `path` (a local ISO) or `url` (with `sha256`)',
        { part: 'key' },
      );
    }
    if (url !== undefined && !written(context, ['install', 'iso', 'sha256'])) {
      report(
        'error',
        ['install', 'iso', 'url'],
        'a downloaded ISO must be pinned: add `sha256` with its SHA-256',
        { part: 'key' },
      );
    }
    if (path !== undefined)
      checkInputFile(context, report, ['install', 'iso', 'path'], path, 'ISO');
    if (!written(context, ['install', 'answers'])) {
      report(
        'error',
        ['install'],
        'missing `answers`: an ISO install needs the answer-file flavour (preseed, autoinstall or kickstart)',
        { part: 'key' },
      );
    }
    if (install.answerFile !== undefined) {
      checkRecipeFile(context, report, ['install', 'answerFile'], install.answerFile);
    }
  }
  if (install.debootstrap && !install.iso) {
    for (const key of ISO_ONLY_KEYS) {
      if (install[key] !== undefined) {
        report(
          'error',
          ['install', key],
          `applies only to ISO installs (\`install.iso\`); remove it for debootstrap`,
          { part: 'key' },
        );
      }
    }
    const deb = install.debootstrap;
    if (deb.kernelPackage !== undefined)
      checkPackage(report, ['install', 'debootstrap', 'kernelPackage'], deb.kernelPackage);
    deb.packages?.forEach((name, i) => {
      if (name !== undefined) checkPackage(report, ['install', 'debootstrap', 'packages', i], name);
    });
  }
}

function checkCustomize(context: RuleContext, report: Report): void {
  const customize = context.raw.customize;
  if (!customize) return;
  customize.packages?.forEach((name, i) => {
    if (name !== undefined) checkPackage(report, ['customize', 'packages', i], name);
  });
  const seen = new Map<string, number>();
  customize.users?.forEach((user, i) => {
    if (user?.name === undefined) return;
    const first = seen.get(user.name);
    if (user.name === 'root') {
      report(
        'error',
        ['customize', 'users', i, 'name'],
        "'root' always exists: give it keys with `rcLocal.metadataSshKey.user: root` or a file",
      );
    } else if (first !== undefined) {
      report('error', ['customize', 'users', i, 'name'], `user '${user.name}' is defined twice`, {
        related: [
          {
            message: 'first defined here',
            location: context.parsed.sourceMap.locate(['customize', 'users', first, 'name']),
          },
        ],
      });
    } else {
      seen.set(user.name, i);
    }
    if (typeof user.sudo === 'string' && /[\n\r]/.test(user.sudo)) {
      report('error', ['customize', 'users', i, 'sudo'], 'a sudoers rule must be one line');
    }
  });
  const keyUser = customize.rcLocal?.metadataSshKey?.user;
  if (keyUser !== undefined)
    checkUserKnown(context, report, ['customize', 'rcLocal', 'metadataSshKey', 'user'], keyUser);
  customize.files?.forEach((file, i) => {
    if (file === undefined) return;
    const base: ValuePath = ['customize', 'files', i];
    if (file.content !== undefined && file.source !== undefined) {
      report('error', [...base, 'source'], 'give either `content` or `source`, not both', {
        part: 'key',
      });
    } else if (file.content === undefined && file.source === undefined) {
      report(
        'error',
        base,
        'expected `content` (the text) or `source` (a file next to the recipe)',
      );
    }
    if (file.source !== undefined)
      checkRecipeFile(context, report, [...base, 'source'], file.source);
    if (file.path !== undefined) checkGuestPath(report, [...base, 'path'], file.path);
  });
  customize.remove?.forEach((path, i) => {
    if (path !== undefined) checkGuestPath(report, ['customize', 'remove', i], path);
  });
}

function checkTest(context: RuleContext, report: Report): void {
  const test = context.raw.test;
  if (!test) return;
  if (test.user !== undefined) checkUserKnown(context, report, ['test', 'user'], test.user);
  const keyUser = context.raw.customize?.rcLocal?.metadataSshKey?.user;
  if (
    test.boot === true &&
    !written(context, ['test', 'user']) &&
    keyUser === undefined &&
    !written(context, ['customize', 'rcLocal', 'metadataSshKey', 'user'])
  ) {
    report(
      'error',
      ['test', 'boot'],
      'the boot test logs in with the key from the metadata service: set `customize.rcLocal.metadataSshKey.user`',
    );
  }
}

/**
 * True when the recipe file holds a value at `path`, even one the schema rejected:
 * a rule must not call "missing" what is present but misspelt (that is reported once).
 */
function written(context: RuleContext, path: ValuePath): boolean {
  return context.parsed.sourceMap.has(path);
}

function checkPackage(report: Report, path: ValuePath, name: string): void {
  if (name.startsWith('-')) {
    // Package names reach apt-get, dnf and debootstrap as arguments: never let one read as an option.
    report(
      'error',
      path,
      `'${name}' looks like a command-line option, not a package name: Debian package names start with a lower-case letter or digit`,
    );
  } else if (!PACKAGE_RE.test(name)) {
    report(
      'error',
      path,
      `'${name}' is not a valid Debian package name: expected lower-case letters, digits, '+', '-' and '.', at least two characters, starting with a letter or digit (optionally name=version)`,
    );
  }
}

function checkGuestPath(report: Report, path: ValuePath, value: string): void {
  const segments = value.split('/').slice(1);
  if (value === '/' || value.trim() === '/') {
    report('error', path, "refusing '/': name a file inside the image");
  } else if (segments.some((s) => s === '..' || s === '.')) {
    report('error', path, `'${value}' contains '.' or '..': write the path without them`);
  } else if (value.endsWith('/')) {
    report('error', path, `'${value}' ends with '/': name the file, not a directory`);
  }
}

function checkUserKnown(context: RuleContext, report: Report, path: ValuePath, name: string): void {
  const names = [
    ...new Set(
      (context.raw.customize?.users ?? []).flatMap((u) => (u?.name !== undefined ? [u.name] : [])),
    ),
  ];
  if (name === 'root' || names.includes(name)) return;
  const suggestion = closest(name, [...names, 'root']);
  report(
    'error',
    path,
    `unknown user '${name}': expected root or one of \`customize.users\`${names.length > 0 ? ` (${names.join(', ')})` : ''}${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
  );
}

/** A file that belongs with the recipe: must be inside its folder, and must exist. */
function checkRecipeFile(
  context: RuleContext,
  report: Report,
  path: ValuePath,
  written: string,
): void {
  const absolute = resolve(context.dir, written);
  const rel = relative(context.dir, absolute);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    report(
      'error',
      path,
      `'${written}' is outside the recipe's folder: keep files that go into the image next to the recipe, so that reviews see them`,
    );
    return;
  }
  if (!context.fileExists(absolute))
    report('error', path, `file not found: '${written}' (looked for ${absolute})`);
}
