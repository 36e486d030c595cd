// The emulated metadata service over real HTTP, as a guest's curl would ask it.
import { connect } from 'node:net';
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

  test("keeps QEMU's one guestfwd connection open between requests far apart", async () => {
    // guestfwd connects when the VM starts and carries every guest request over that
    // connection; Node's default keepAliveTimeout (5 s) would close it after an answer.
    const socket = connect(service.port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    const closed = new Promise<void>((resolve) =>
      socket.on('close', () => {
        resolve();
      }),
    );
    const ask = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n';
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(200);
    socket.write(ask);
    await pause(6500);
    expect(socket.destroyed).toBe(false);
    socket.write(ask);
    await pause(300);
    expect(data.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    socket.end();
    await closed;
  }, 15_000);

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
