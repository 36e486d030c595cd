// The emulated metadata service over real HTTP, as a guest's curl would ask it.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  startMetadataService,
  type RunningMetadataService,
} from '../../../src/vm/metadata-service.js';

describe('metadata service', () => {
  let service: RunningMetadataService;
  const key =
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGV4YW1wbGVrZXlleGFtcGxla2V5ZXhhbXBsZWtleQ test@emi-recipe';
  beforeAll(async () => {
    service = await startMetadataService({
      instanceId: 'i-12345678',
      imageId: 'emi-abcdef01',
      kernelId: 'eki-00000001',
      ramdiskId: 'eri-00000002',
      localIpv4: '169.254.0.15',
      publicIpv4: '127.0.0.1',
      hostname: 'boot-test',
      openSshKey: key,
      keyName: 'emi-recipe-test',
      instanceType: 'm1.small',
      availabilityZone: 'local',
    });
  });
  afterAll(async () => {
    await service.close();
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${service.port}${path}`);
    return { status: res.status, text: await res.text() };
  };

  test('serves the SSH key where rc.local scripts fetch it', async () => {
    expect(await get('/latest/meta-data/public-keys/0/openssh-key')).toEqual({
      status: 200,
      text: `${key}\n`,
    });
  });

  test('serves instance facts and directory listings like EC2', async () => {
    expect(await get('/latest/meta-data/instance-id')).toEqual({ status: 200, text: 'i-12345678' });
    expect(await get('/latest/meta-data/public-keys/')).toEqual({
      status: 200,
      text: '0=emi-recipe-test',
    });
    expect((await get('/latest/meta-data/')).text.split('\n')).toEqual(
      expect.arrayContaining([
        'instance-id',
        'public-keys/',
        'placement/',
        'kernel-id',
        'local-ipv4',
      ]),
    );
    expect(await get('/latest/meta-data/placement/availability-zone')).toEqual({
      status: 200,
      text: 'local',
    });
  });

  test('404 for unknown paths and absent user data; every request is recorded', async () => {
    expect((await get('/latest/meta-data/nope')).status).toBe(404);
    expect((await get('/latest/user-data')).status).toBe(404);
    expect(
      service.requests.some(
        (r) => r.path === '/latest/meta-data/public-keys/0/openssh-key' && r.status === 200,
      ),
    ).toBe(true);
  });
});
