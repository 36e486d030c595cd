// Pre-flight's admin-rights warning: only a paravirtual run (a kernel and a ramdisk to
// register) on a real cloud needs cloud-admin rights; an hvm run registers only the machine
// image, which any Eucalyptus account may do (issue 14).
import { describe, expect, test } from '@jest/globals';
import { needsAdminRights } from '../../../src/steps/preflight.js';
import { stepKindOptions } from '../../../src/cli/step-kind-options.js';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';

const EUCARC = {
  EC2_URL: 'http://euca:8773/services/compute',
  S3_URL: 'http://euca:8773/services/objectstorage',
  EC2_USER_ID: '123456789012',
  EC2_CERT: '/k/c.pem',
  EC2_PRIVATE_KEY: '/k/k.pem',
  EUCALYPTUS_CERT: '/k/cc.pem',
};

function settingsOf(image: string) {
  const loaded = loadRecipeText(
    '/r/demo.yaml',
    `name: demo\ndisk: { size: 2G }\ninstall: { debootstrap: { suite: bookworm } }\n${image}publish: { cloud: eucalyptus }\n`,
    { env: EUCARC, strictInputs: false, fileExists: () => true },
  );
  if (!loaded.recipe) throw new Error(JSON.stringify(loaded.diagnostics));
  return stepKindOptions(loaded.recipe).preflight;
}

const REGISTERS = new Set(['bundle-image', 'upload-bundle', 'register-image']);

describe('needsAdminRights', () => {
  test('a paravirtual recipe on Eucalyptus registering images: yes', () => {
    expect(needsAdminRights(settingsOf(''), REGISTERS, false)).toBe(true);
  });

  test('an hvm recipe on Eucalyptus: no (no kernel or ramdisk is registered)', () => {
    expect(needsAdminRights(settingsOf('image: { virtualization: hvm }\n'), REGISTERS, false)).toBe(
      false,
    );
  });

  test('nothing to register, or the local cloud: no', () => {
    expect(needsAdminRights(settingsOf(''), new Set(['bundle-image']), false)).toBe(false);
    expect(needsAdminRights(settingsOf(''), REGISTERS, true)).toBe(false);
  });
});
