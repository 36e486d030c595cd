import { describe, expect, test } from '@jest/globals';
import {
  buildIsoArgs,
  extractArgs,
  parseFileList,
  parseVolumeId,
} from '../../../src/tools/xorriso.js';

describe('xorriso', () => {
  test('file list and volume id', () => {
    expect(parseFileList("'/install.amd/vmlinuz'\n'/a b/it'\"'\"'s'\nxorriso : NOTE\n")).toEqual([
      '/install.amd/vmlinuz',
      "/a b/it's",
    ]);
    expect(
      parseVolumeId(
        'Drive current: -indev x\nPVD address  : 16s\nVolume Id    : Rocky-9-4-x86_64-dvd\nVolume Set Id: \n',
      ),
    ).toBe('Rocky-9-4-x86_64-dvd');
    expect(parseVolumeId('Volume Id    : \n')).toBeNull();
  });
  test('extract and build', () => {
    expect(
      extractArgs('a.iso', [
        ['/k', '/t/k'],
        ['/i', '/t/i'],
      ]),
    ).toEqual([
      '-osirrox',
      'on',
      '-indev',
      'a.iso',
      '-extract',
      '/k',
      '/t/k',
      '-extract',
      '/i',
      '/t/i',
    ]);
    expect(buildIsoArgs({ dir: 'seed', out: 's.iso', volumeId: 'CIDATA' })).toEqual([
      '-as',
      'mkisofs',
      '-quiet',
      '-o',
      's.iso',
      '-V',
      'CIDATA',
      '-J',
      '-r',
      'seed',
    ]);
  });
});
