// registerImage (idempotence, the available-waiter), deregisterImage and describeImages
// against an in-memory image registry.
import { describe, expect, test } from '@jest/globals';
import { deregisterImage, describeImages, registerImage } from '../../../src/cloud/ec2-register.js';
import type { CloudFailure } from '../../../src/cloud/aws-errors.js';
import { EC2_ENDPOINT, memoryRegistry } from '../../helpers/fake-cloud.js';

const signal = new AbortController().signal;
const base = {
  imageLocation: 'b/p/img.manifest.xml',
  name: 'img',
  signal,
  pollIntervalMs: 1,
  retry: { baseDelayMs: 1, maxDelayMs: 2 },
};
const refused = (code: string): CloudFailure => ({
  reason: 'refused',
  endpoint: EC2_ENDPOINT,
  service: 'ec2',
  operation: 'RegisterImage',
  code,
});

describe('registerImage', () => {
  test('registers, then polls DescribeImages until available', async () => {
    const registry = memoryRegistry();
    registry.states = ['pending', 'pending', 'available'];
    const result = await registerImage({
      ...base,
      registry,
      kernelId: 'eki-1',
      ramdiskId: 'eri-1',
    });
    expect(result.ok && result.value).toMatchObject({ imageId: 'emi-00000001', reused: false });
    expect(registry.calls.filter((c) => c.startsWith('RegisterImage'))).toHaveLength(1);
    expect(registry.calls.filter((c) => c.includes('"imageIds"'))).toHaveLength(3);
  });

  test('an image already registered from the same location is reused, not registered again', async () => {
    const registry = memoryRegistry();
    await registerImage({ ...base, registry });
    const again = await registerImage({ ...base, registry });
    expect(again.ok && again.value).toMatchObject({ imageId: 'emi-00000001', reused: true });
    expect(registry.calls.filter((c) => c.startsWith('RegisterImage'))).toHaveLength(1);
    expect(registry.calls[0]).toContain('"owners":["self"]');
    expect(registry.calls[0]).toContain('manifest-location');
  });

  test('a registration that landed but answered an error is found again by its location', async () => {
    const registry = memoryRegistry();
    registry.landThenFail = true;
    registry.registerFailure = (n) =>
      n === 1
        ? { ...refused('InternalError'), reason: 'server-error', attempts: 1 }
        : refused('InvalidAMIName.Duplicate');
    const result = await registerImage({ ...base, registry });
    expect(result.ok && result.value).toMatchObject({ imageId: 'emi-00000001', reused: true });
    expect(registry.images).toHaveLength(2);
  });

  test("'failed' ends the wait with the cloud's reason", async () => {
    const registry = memoryRegistry();
    registry.states = ['pending', 'failed'];
    registry.stateReason = 'Failed to decrypt the image key';
    const result = await registerImage({ ...base, registry });
    expect(!result.ok && result.error).toMatchObject({
      reason: 'image-failed',
      imageId: 'emi-00000001',
      cloudMessage: 'Failed to decrypt the image key',
    });
  });

  test('still pending after the wait limit: wait-timeout with the last state', async () => {
    const registry = memoryRegistry();
    registry.states = ['pending'];
    const result = await registerImage({ ...base, registry, waitTimeoutMs: 20 });
    expect(!result.ok && result.error).toMatchObject({
      reason: 'wait-timeout',
      lastState: 'pending',
    });
  });

  test('isPublic: launch permission for everyone once available', async () => {
    const registry = memoryRegistry();
    const result = await registerImage({ ...base, registry, isPublic: true });
    expect(result.ok && result.value.image.isPublic).toBe(true);
    expect(registry.calls).toContain('SetPublic emi-00000001 true');
  });

  test('a refusal is returned as is and not retried', async () => {
    const registry = memoryRegistry();
    registry.registerFailure = () => refused('InvalidManifest');
    const result = await registerImage({ ...base, registry });
    expect(!result.ok && result.error.code).toBe('InvalidManifest');
    expect(registry.calls.filter((c) => c.startsWith('RegisterImage'))).toHaveLength(1);
  });
});

describe('deregisterImage and describeImages', () => {
  test('deregistering twice: existed, then not', async () => {
    const registry = memoryRegistry();
    await registerImage({ ...base, registry });
    const first = await deregisterImage({ registry, imageId: 'emi-00000001', signal });
    const second = await deregisterImage({ registry, imageId: 'emi-00000001', signal });
    expect(first.ok && first.value.existed).toBe(true);
    expect(second.ok && second.value.existed).toBe(false);
  });

  test('images come sorted by id; owners default to self', async () => {
    const registry = memoryRegistry();
    await registerImage({ ...base, registry, imageLocation: 'b/2.manifest.xml', name: 'two' });
    await registerImage({ ...base, registry, imageLocation: 'b/1.manifest.xml', name: 'one' });
    registry.images.reverse();
    const listed = await describeImages({ registry, signal });
    expect(listed.ok && listed.value.map((i) => i.imageId)).toEqual([
      'emi-00000001',
      'emi-00000002',
    ]);
    expect(registry.calls.at(-1)).toContain('"owners":["self"]');
  });
});
