// Generated answer files, golden: preseed (Debian installer), kickstart, autoinstall.
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import type { IsoInstallParams } from '../../../src/plan/step-params.js';
import { answerOptions, keymapFor } from '../../../src/steps/answers/answer-options.js';
import { autoinstallUserData } from '../../../src/steps/answers/autoinstall.js';
import { kickstartFile } from '../../../src/steps/answers/kickstart.js';
import { preseedFile } from '../../../src/steps/answers/preseed.js';
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
const withSwap = {
  ...answerOptions(params),
  swapBytes: 512 * 2 ** 20,
  locale: 'de_DE.UTF-8',
  timezone: 'Europe/Berlin',
};

describe('answer files', () => {
  test('preseed', () => {
    expectGolden('answers/preseed.cfg', preseedFile(answerOptions(params)));
    expectGolden('answers/preseed-swap.cfg', preseedFile(withSwap));
    expect(generatedAnswerFile(params)).toBe(preseedFile(answerOptions(params)));
  });
  test('kickstart', () => {
    expectGolden('answers/ks.cfg', kickstartFile(answerOptions(params)));
    expectGolden('answers/ks-swap.cfg', kickstartFile(withSwap));
  });
  test('autoinstall user-data is YAML with an autoinstall section', () => {
    const text = autoinstallUserData(answerOptions(params));
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
    expect(Object.keys(answerOptions(params)).sort()).toEqual([
      'disk',
      'locale',
      'swapBytes',
      'timezone',
    ]);
  });
  test('keyboard from the locale', () => {
    expect(keymapFor('de_DE.UTF-8')).toBe('de');
    expect(keymapFor('en_US.UTF-8')).toBe('us');
    expect(keymapFor('C.UTF-8')).toBe('us');
  });
});
