import { describe, expect, test } from '@jest/globals';
import {
  copyRangeInArgs,
  copyRangeOutArgs,
  createArgs,
  createOverlayArgs,
  parseInfo,
  parseProgress,
  rangeImageOpts,
} from '../../../src/tools/qemu-img.js';

describe('qemu-img argv', () => {
  test('create in the recipe format and exact size', () => {
    expect(createArgs({ path: '/w/disk.qcow2', format: 'qcow2', sizeBytes: 2 * 2 ** 30 })).toEqual([
      'create',
      '-q',
      '-f',
      'qcow2',
      '/w/disk.qcow2',
      '2147483648',
    ]);
  });
  test('overlay names its backing file and format', () => {
    expect(
      createOverlayArgs({
        path: 'o.qcow2',
        backingPath: '/w/steps/install-os/disk.qcow2',
        backingFormat: 'qcow2',
      }),
    ).toEqual([
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      '/w/steps/install-os/disk.qcow2',
      '-F',
      'qcow2',
      'o.qcow2',
    ]);
  });
  test('a byte range of a qcow2 or raw disk as image options, commas doubled', () => {
    expect(
      rangeImageOpts({
        path: '/w/a,b.qcow2',
        format: 'qcow2',
        offsetBytes: 1048576,
        sizeBytes: 4096,
      }),
    ).toBe(
      'driver=raw,offset=1048576,size=4096,file.driver=qcow2,file.file.driver=file,file.file.filename=/w/a,,b.qcow2',
    );
    expect(
      rangeImageOpts({ path: '/w/d.raw', format: 'raw', offsetBytes: 0, sizeBytes: null }),
    ).toBe('driver=raw,offset=0,file.driver=file,file.filename=/w/d.raw');
  });
  test('copy a range out and back in', () => {
    const range = { path: 'd.qcow2', format: 'qcow2' as const, offsetBytes: 512, sizeBytes: 1024 };
    expect(copyRangeOutArgs({ from: range, to: 'p.img', toFormat: 'raw' })).toEqual([
      'convert',
      '-p',
      '--image-opts',
      rangeImageOpts(range),
      '-O',
      'raw',
      'p.img',
    ]);
    expect(copyRangeInArgs({ from: 'p.img', to: range })).toEqual([
      'convert',
      '-p',
      '-n',
      '-f',
      'raw',
      'p.img',
      '--target-image-opts',
      rangeImageOpts(range),
    ]);
  });
  test('parses info JSON and progress', () => {
    expect(
      parseInfo(
        '{"virtual-size": 10, "format": "qcow2", "actual-size": 5, "backing-filename": "b.qcow2"}',
      ),
    ).toEqual({
      format: 'qcow2',
      virtualSizeBytes: 10,
      actualSizeBytes: 5,
      backingFile: 'b.qcow2',
    });
    expect(parseInfo('not json')).toBeNull();
    expect(parseInfo('{"format": 1}')).toBeNull();
    expect(parseProgress('    (45.50/100%)')).toBe(45.5);
    expect(parseProgress('hello')).toBeNull();
  });
});
