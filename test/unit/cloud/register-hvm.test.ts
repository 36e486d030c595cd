// RegisterImage for an hvm instance-store image, on the wire, against what euca-register
// 3.4.1 sends for `euca-register BUCKET/PREFIX.manifest.xml -n NAME -a x86_64
// --virtualization-type hvm` (euca2ools/commands/ec2/registerimage.py, tag v3.4.1):
//   - VirtualizationType=hvm (the --virtualization-type choice, paravirtual|hvm);
//   - no KernelId/RamdiskId (only sent with --kernel/--ramdisk);
//   - euca-register sends no RootDeviceName with a manifest (it refuses
//     --root-device-name there; its default /dev/sda1 is for EBS registrations only).
// The one difference: the issue asks the request to carry a root device name, so emi-recipe
// sends the one the manifest implies, as Eucalyptus derives it (MachineImageInfo
// .getRootDeviceName: the `ami` mapping, else /dev/sda for hvm): Eucalyptus' ImageManager
// .register ignores RootDeviceName for instance-store images, EC2 takes it as optional, and
// it never contradicts the manifest (docs/publishing.md, "RootDeviceName").
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { EC2Client } from '@aws-sdk/client-ec2';
import { sdkImageRegistry } from '../../../src/cloud/image-registry.js';
import { registerImage } from '../../../src/cloud/ec2-register.js';
import { hvmRootDevice } from '../../../src/plan/graph-hvm.js';

let server: Server;
let endpoint = '';
const bodies: URLSearchParams[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      bodies.push(params);
      const action = params.get('Action');
      const xml =
        action === 'RegisterImage'
          ? '<RegisterImageResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imageId>emi-0a0b0c0d</imageId></RegisterImageResponse>'
          : `<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet>${
              bodies.some((b) => b.get('Action') === 'RegisterImage')
                ? '<item><imageId>emi-0a0b0c0d</imageId><imageLocation>images/debian-minimal-hvm.img.manifest.xml</imageLocation><imageState>available</imageState><imageOwnerId>123456789012</imageOwnerId><isPublic>false</isPublic><architecture>x86_64</architecture><imageType>machine</imageType><name>debian-minimal-hvm</name><rootDeviceType>instance-store</rootDeviceType><rootDeviceName>/dev/sda</rootDeviceName><virtualizationType>hvm</virtualizationType></item>'
                : ''
            }</imagesSet></DescribeImagesResponse>`;
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The request's parameters without the SDK's Action and Version. */
const sent = (params: URLSearchParams): Record<string, string> =>
  Object.fromEntries([...params].filter(([k]) => k !== 'Action' && k !== 'Version'));

describe('RegisterImage for an hvm image', () => {
  test('carries what euca-register 3.4.1 sends for --virtualization-type hvm (no kernel or ramdisk) and the root device the manifest implies', async () => {
    const ec2 = new EC2Client({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const registry = sdkImageRegistry(ec2, endpoint);
    const r = await registerImage({
      registry,
      imageLocation: 'images/debian-minimal-hvm.img.manifest.xml',
      name: 'debian-minimal-hvm',
      architecture: 'x86_64',
      virtualizationType: 'hvm',
      rootDeviceName: hvmRootDevice({}),
      signal: new AbortController().signal,
      pollIntervalMs: 1,
    });
    expect(r.ok && r.value.image).toMatchObject({
      virtualizationType: 'hvm',
      rootDeviceType: 'instance-store',
      rootDeviceName: '/dev/sda',
    });
    const register = bodies.find((b) => b.get('Action') === 'RegisterImage');
    expect(register).toBeDefined();
    expect(sent(register!)).toEqual({
      ImageLocation: 'images/debian-minimal-hvm.img.manifest.xml',
      Name: 'debian-minimal-hvm',
      Architecture: 'x86_64',
      VirtualizationType: 'hvm',
      RootDeviceName: '/dev/sda',
    });
    ec2.destroy();
  });
});

describe('the root device an hvm manifest implies', () => {
  test.each([
    [{}, '/dev/sda'],
    [{ root: '/dev/sda1' }, '/dev/sda'],
    [{ ami: 'sda1', root: '/dev/sda1' }, '/dev/sda1'],
    [{ ami: 'xvda' }, '/dev/xvda'],
    [{ ami: '/dev/sdb' }, '/dev/sdb'],
  ])(
    '%j → %s (the ami mapping, else the whole disk, as Eucalyptus derives it)',
    (mapping, device) => {
      expect(hvmRootDevice(mapping)).toBe(device);
    },
  );
});
