// Generated answer files, golden: preseed (Debian installer), kickstart, autoinstall.
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import type { IsoInstallParams } from '../../../src/plan/step-params.js';
import { answerOptions, countryFor, keymapFor } from '../../../src/guest/answers/answer-options.js';
import { installerMirror } from '../../../src/guest/answers/installer-mirror.js';
import { parseAptSources } from '../../../src/tools/debootstrap.js';
import { autoinstallUserData } from '../../../src/guest/answers/autoinstall.js';
import { kickstartFile } from '../../../src/guest/answers/kickstart.js';
import { preseedFile } from '../../../src/guest/answers/preseed.js';
import { generatedAnswerFile } from '../../../src/steps/answer-inject.js';
import { expectGolden } from '../../helpers/golden-text.js';

const params: IsoInstallParams = {
  source: 'iso',
  arch: 'x86_64',
  sha256: null,
  url: null,
  answers: 'preseed',
  locale: 'en_US.UTF-8',
  timezone: 'UTC',
  swapBytes: 0,
  kernelArgs: [],
  memoryBytes: 2 ** 30,
  cpus: 1,
  accel: 'auto',
  timeoutMs: 60_000,
};
const mirror = { protocol: 'http', hostname: 'mirror.invalid:8080', directory: '/debian' } as const;
const withSwap = {
  ...answerOptions(params, mirror),
  swapBytes: 512 * 2 ** 20,
  locale: 'de_DE.UTF-8',
  timezone: 'Europe/Berlin',
};

describe('answer files', () => {
  test('preseed', () => {
    expectGolden('answers/preseed.cfg', preseedFile(answerOptions(params, mirror)));
    expectGolden('answers/preseed-swap.cfg', preseedFile(withSwap));
    expectGolden('answers/preseed-no-mirror.cfg', preseedFile(answerOptions(params, null)));
    expect(generatedAnswerFile(params, mirror)).toBe(preseedFile(answerOptions(params, mirror)));
  });
  test('kickstart', () => {
    expectGolden('answers/ks.cfg', kickstartFile(answerOptions(params, mirror)));
    expectGolden('answers/ks-swap.cfg', kickstartFile(withSwap));
  });
  test('autoinstall user-data is YAML with an autoinstall section', () => {
    const text = autoinstallUserData(answerOptions(params, mirror));
    expectGolden('answers/user-data.yaml', text);
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text) as {
      autoinstall: {
        version: number;
        shutdown: string;
        storage: { config: { type: string; fstype?: string }[] };
      };
    };
    expect(doc.autoinstall.version).toBe(1);
    expect(doc.autoinstall.shutdown).toBe('poweroff');
    expect(
      doc.autoinstall.storage.config.filter((c) => c.type === 'format').map((c) => c.fstype),
    ).toEqual(['ext4']);
    const swapped = parse(autoinstallUserData(withSwap)) as typeof doc;
    expect(
      swapped.autoinstall.storage.config.filter((c) => c.type === 'format').map((c) => c.fstype),
    ).toEqual(['swap', 'ext4']);
  });
  test('never read customize: the generated file depends on install params only', () => {
    expect(Object.keys(answerOptions(params, mirror)).sort()).toEqual([
      'disk',
      'locale',
      'mirror',
      'swapBytes',
      'timezone',
    ]);
  });
  test('country from the locale', () => {
    expect(countryFor('de_DE.UTF-8')).toBe('DE');
    expect(countryFor('pt_BR')).toBe('BR');
    expect(countryFor('C.UTF-8')).toBe('US');
    expect(preseedFile(withSwap)).toContain('d-i debian-installer/country string DE\n');
  });
  test('the installer mirror from apt sources: the main archive, never the security one', () => {
    const deb822 = [
      'Types: deb',
      'URIs: http://security.mirror.invalid/debian-security',
      'Suites: bookworm-security',
      '',
      'Types: deb',
      'URIs: https://mirror.invalid:8443/debian/',
      'Suites: bookworm bookworm-updates',
    ].join('\n');
    expect(installerMirror(parseAptSources(deb822))).toEqual({
      protocol: 'https',
      hostname: 'mirror.invalid:8443',
      directory: '/debian',
    });
    expect(
      installerMirror(parseAptSources('deb [arch=amd64] http://mirror.invalid/ bookworm main\n')),
    ).toEqual({ protocol: 'http', hostname: 'mirror.invalid', directory: '/' });
    expect(installerMirror(parseAptSources('deb file:/srv/repo bookworm main\n'))).toBeNull();
    expect(installerMirror([])).toBeNull();
    const https = preseedFile({
      ...answerOptions(params, null),
      mirror: { protocol: 'https', hostname: 'h.invalid', directory: '/d' },
    });
    expect(https).toContain(
      'd-i mirror/protocol string https\nd-i mirror/https/hostname string h.invalid\n',
    );
  });
  test('root is locked with a hash user-setup keeps ("!*"), never the "!" it treats as unset', () => {
    expect(preseedFile(withSwap)).toContain('d-i passwd/root-password-crypted password !*\n');
  });
  test('keyboard from the locale', () => {
    expect(keymapFor('de_DE.UTF-8')).toBe('de');
    expect(keymapFor('en_US.UTF-8')).toBe('us');
    expect(keymapFor('C.UTF-8')).toBe('us');
  });
});
