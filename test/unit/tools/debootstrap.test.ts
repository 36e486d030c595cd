import { describe, expect, test } from '@jest/globals';
import {
  debootstrapArgs,
  mirrorForSuite,
  parseAptSources,
  parseDebootstrapLine,
} from '../../../src/tools/debootstrap.js';

describe('debootstrap', () => {
  test('argv: variant, arch, components, includes, cache, suite, target, mirror', () => {
    expect(
      debootstrapArgs({
        suite: 'bookworm',
        target: '/t',
        arch: 'x86_64',
        variant: 'minbase',
        components: ['main', 'contrib'],
        include: ['linux-image-cloud-amd64', 'curl'],
        mirror: null,
        cacheDir: '/c',
      }),
    ).toEqual([
      '--variant=minbase',
      '--arch=amd64',
      '--components=main,contrib',
      '--include=linux-image-cloud-amd64,curl',
      '--cache-dir=/c',
      'bookworm',
      '/t',
    ]);
    expect(
      debootstrapArgs({
        suite: 'jammy',
        target: '/t',
        arch: 'i386',
        variant: 'default',
        components: ['main'],
        include: [],
        mirror: 'http://m/ubuntu',
      }),
    ).toEqual(['--arch=i386', '--components=main', 'jammy', '/t', 'http://m/ubuntu']);
  });
  test('argv: a value that debootstrap would read as an option is refused (it has no --)', () => {
    const base = {
      suite: 'bookworm',
      target: '/t',
      arch: 'x86_64',
      variant: 'minbase',
      components: ['main'],
      include: ['curl'],
      mirror: null,
    } as const;
    expect(() => debootstrapArgs({ ...base, suite: '--unpack-tarball=/etc/shadow' })).toThrow(
      /refusing suite/,
    );
    expect(() => debootstrapArgs({ ...base, include: ['curl', 'a,--foreign'] })).toThrow(
      /refusing package/,
    );
    expect(() => debootstrapArgs({ ...base, include: ['-x'] })).toThrow(/refusing package/);
    expect(() => debootstrapArgs({ ...base, components: ['main,-x'] })).toThrow(
      /refusing component/,
    );
    expect(() => debootstrapArgs({ ...base, mirror: '--keyring=/x' })).toThrow(/refusing mirror/);
    expect(debootstrapArgs({ ...base, include: ['mediawiki=1:1.39.5-1'] })).toContain(
      '--include=mediawiki=1:1.39.5-1',
    );
  });
  test('apt sources: one-line and deb822', () => {
    const list =
      '# comment\ndeb [arch=amd64 signed-by=/k] http://a.example/debian bookworm main\ndeb-src http://a.example/debian bookworm main\ndeb http://s.example/debian-security bookworm-security main\n';
    expect(parseAptSources(list)).toEqual([
      { uri: 'http://a.example/debian', suites: ['bookworm'] },
      { uri: 'http://s.example/debian-security', suites: ['bookworm-security'] },
    ]);
    const deb822 =
      'Types: deb\n# note\nURIs: http://b.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb-src\nURIs: http://c.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://d.example/x\nSuites: sid\nEnabled: no\n';
    expect(parseAptSources(deb822)).toEqual([
      { uri: 'http://b.example/debian', suites: ['bookworm', 'bookworm-updates'] },
    ]);
  });
  test('the mirror serves the very suite, else none', () => {
    const sources = [{ uri: 'http://b.example/debian', suites: ['bookworm'] }];
    expect(mirrorForSuite(sources, 'bookworm')).toBe('http://b.example/debian');
    expect(mirrorForSuite(sources, 'jammy')).toBeNull();
  });
  test('progress from I: lines', () => {
    expect(parseDebootstrapLine('I: Retrieving libc6 2.36-9')).toEqual({
      percent: 5,
      message: 'downloading packages libc6',
    });
    expect(parseDebootstrapLine('I: Configuring ifupdown...')).toEqual({
      percent: 60,
      message: 'configuring ifupdown',
    });
    expect(parseDebootstrapLine('I: Base system installed successfully.')?.percent).toBe(100);
    expect(parseDebootstrapLine('W: something')).toBeNull();
  });
});
