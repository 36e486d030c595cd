// `image.virtualization`: paravirtual by default, hvm on request; a recipe publishing to AWS
// must choose hvm (AWS registers no user kernels and runs no paravirtual instances on
// current types), told where and what to write.
import { describe, expect, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

const BASE = 'name: demo\ndisk: { size: 2G }\ninstall: { debootstrap: { suite: bookworm } }\n';
const AWS_ENV = {
  EC2_USER_ID: '123456789012',
  EC2_CERT: '/k/c.pem',
  EC2_PRIVATE_KEY: '/k/k.pem',
  EUCALYPTUS_CERT: '/k/cc.pem',
};
const load = (text: string) =>
  loadRecipeText('/r/demo.yaml', BASE + text, {
    env: AWS_ENV,
    strictInputs: false,
    fileExists: () => true,
  });

describe('image.virtualization', () => {
  test('paravirtual by default; hvm when asked', () => {
    expect(load('').recipe?.image).toEqual({ virtualization: 'paravirtual' });
    expect(load('image: { virtualization: hvm }\n').recipe?.image).toEqual({
      virtualization: 'hvm',
    });
  });

  test('publishing to AWS without hvm is an error at publish.cloud that says to choose hvm', () => {
    const r = load('publish: { cloud: aws }\n');
    expect(r.recipe).toBeUndefined();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      path: 'publish.cloud',
      location: { range: { start: { line: 4, column: 19 } } }, // the value `aws`
    });
    expect(errors[0]?.message).toContain('choose hvm with `image: { virtualization: hvm }`');
  });

  test('an explicit paravirtual with AWS is reported at image.virtualization', () => {
    const r = load('image: { virtualization: paravirtual }\npublish: { cloud: aws }\n');
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.path)).toEqual(['image.virtualization']);
    expect(errors[0]?.location.range.start.line).toBe(4);
  });

  test('AWS with hvm, and Eucalyptus or the local cloud with either, are fine', () => {
    expect(load('image: { virtualization: hvm }\npublish: { cloud: aws }\n').recipe).toBeDefined();
    expect(load('publish: { cloud: local }\n').recipe).toBeDefined();
    expect(
      load('image: { virtualization: hvm }\npublish: { cloud: local }\n').recipe,
    ).toBeDefined();
  });

  test('hvm: extract.rootfsSize and the kernel and ramdisk names are ignored, with a warning each', () => {
    const r = load(
      'image: { virtualization: hvm }\nextract: { rootfsSize: 1G }\npublish: { names: { kernel: kern-1, ramdisk: ram-1 } }\n',
    );
    expect(r.recipe).toBeDefined();
    expect(r.diagnostics.map((d) => [d.severity, d.path])).toEqual([
      ['warning', 'extract.rootfsSize'],
      ['warning', 'publish.names.kernel'],
      ['warning', 'publish.names.ramdisk'],
    ]);
    expect(r.diagnostics[0]?.message).toContain('the machine image is the whole disk');
    expect(load('extract: { rootfsSize: 1G }\n').diagnostics).toEqual([]);
  });

  test('hvm with a kickstart (Red Hat-family) install is an error at install.answers', () => {
    const iso = (answers: string, image: string) =>
      loadRecipeText(
        '/r/demo.yaml',
        `name: demo\ndisk: { size: 2G }\ninstall: { iso: { path: ./x.iso }, answers: ${answers} }\n${image}`,
        { env: {}, strictInputs: false, fileExists: () => true },
      );
    const r = iso('kickstart', 'image: { virtualization: hvm }\n');
    expect(r.recipe).toBeUndefined();
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.path)).toEqual(['install.answers']);
    expect(errors[0]?.message).toContain('Use a Debian-family installer (preseed or autoinstall)');
    expect(iso('kickstart', '').recipe).toBeDefined();
    expect(iso('preseed', 'image: { virtualization: hvm }\n').recipe).toBeDefined();
    expect(iso('autoinstall', 'image: { virtualization: hvm }\n').recipe).toBeDefined();
  });

  test('hvm on Eucalyptus: an ami mapping to a partition is a warning (it would run partitioned)', () => {
    const ami = (cloud: string, device: string) =>
      load(
        `image: { virtualization: hvm }\nbundle: { blockDeviceMapping: { ami: ${device}, root: /dev/sda1 } }\npublish: { cloud: ${cloud} }\n`,
      ).diagnostics.filter((d) => d.path === 'bundle.blockDeviceMapping.ami');
    const warned = ami('eucalyptus', 'sda1');
    expect(warned.map((d) => d.severity)).toEqual(['warning']);
    expect(warned[0]?.message).toContain('leave `ami` out for an hvm image');
    expect(ami('eucalyptus', 'sda')).toEqual([]);
    expect(ami('aws', 'sda1')).toEqual([]);
  });

  test('an unknown virtualization is a schema error', () => {
    const r = load('image: { virtualization: pv }\n');
    expect(r.recipe).toBeUndefined();
    expect(r.diagnostics.some((d) => d.path === 'image.virtualization')).toBe(true);
  });
});
