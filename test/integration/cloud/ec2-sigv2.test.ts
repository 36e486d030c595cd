// The EC2 Query API signed with Signature Version 2 by an independent signer, botocore's
// SigV2Auth (python3), over real HTTP: DescribeImages answers, a wrong secret does not.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { startTestCloud, type TestCloud } from '../../helpers/local-cloud.js';

jest.setTimeout(120_000);
let t: TestCloud;

beforeAll(async () => {
  t = await startTestCloud();
});
afterAll(async () => {
  await t.stop();
});

const SIGNER = `
import sys, urllib.request, urllib.error
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key, secret, method = sys.argv[1:5]
params = {'Action': 'DescribeImages', 'Version': '2015-10-01', 'Owner.1': 'self'}
if method == 'POST':
    request = AWSRequest(method='POST', url=url, data=params)
else:
    request = AWSRequest(method='GET', url=url, params=params)
SigV2Auth(Credentials(key, secret)).add_auth(request)
prepared = request.prepare()
body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
sent = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method=method)
try:
    reply = urllib.request.urlopen(sent)
    print(reply.status)
    print(reply.read().decode())
except urllib.error.HTTPError as error:
    print(error.code)
    print(error.read().decode())
`;

function describeWithBotocore(
  secret: string,
  method: 'GET' | 'POST',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'python3',
      ['-c', SIGNER, t.cloud.endpoints.ec2, t.cloud.credentials.accessKeyId, secret, method],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe('EC2 with Signature Version 2 (botocore SigV2Auth)', () => {
  test.each(['POST', 'GET'] as const)('%s DescribeImages is answered', async (method) => {
    const r = await describeWithBotocore(t.cloud.credentials.secretAccessKey, method);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^200\n/);
    expect(r.stdout).toContain('<DescribeImagesResponse');
  });

  test('a wrong secret is refused: AuthFailure, SignatureDoesNotMatch', async () => {
    const r = await describeWithBotocore('not-the-secret', 'POST');
    expect(r.stdout).toMatch(/^401\n/);
    expect(r.stdout).toContain('<Code>AuthFailure</Code>');
    expect(r.stdout).toContain('SignatureDoesNotMatch');
  });
});
