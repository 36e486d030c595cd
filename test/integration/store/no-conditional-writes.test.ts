// A store on a server that ignores conditional writes (as older Eucalyptus object storage
// does) is refused before apply takes its lock, naming the server and the choices; with
// --no-lock it opens. The server here is a minimal S3 over real HTTP that answers every
// PUT with 200 (If-None-Match ignored); the client is the real AWS SDK.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openRecipeStore, type OpenStoreOptions } from '../../../src/store/open-store.js';
import { describeStoreFailure } from '../../../src/store/describe-store.js';

let server: Server;
let endpoint = '';
const puts: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'PUT')
        puts.push(`${request.url ?? ''} ${String(request.headers['if-none-match'])}`);
      response.statusCode = request.method === 'DELETE' ? 204 : 200;
      response.setHeader('ETag', '"d41d8cd98f00b204e9800998ecf8427e"');
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? String(address.port) : '0'}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function options(locking: boolean): OpenStoreOptions {
  return {
    url: 's3://emi-state/ci',
    origin: '--store',
    workDir: mkdtempSync(join(tmpdir(), 'emi-store-probe-')),
    recipe: { name: 'demo', file: 'demo.yaml' },
    target: {
      cloud: 'eucalyptus',
      ec2Endpoint: `${endpoint}/services/compute`,
      s3Endpoint: endpoint,
      region: 'eucalyptus',
      accessKeyId: 'AKIDEXAMPLE',
    },
    secretKey: 'secret-example',
    localDataDir: '/nonexistent',
    env: {},
    forWrite: true,
    locking,
    signal: new AbortController().signal,
  };
}

describe('a server that ignores If-None-Match', () => {
  test('is refused before the lock, naming the server and the choices', async () => {
    const opened = await openRecipeStore(options(true));
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.error).toEqual({
      reason: 'no-conditional-writes',
      url: 's3://emi-state/ci',
      server: endpoint,
      found: 'a second create of the same key with If-None-Match: * overwrote it',
    });
    expect(
      puts.filter((p) => p.includes('probe-conditional-write') && p.endsWith(' *')),
    ).toHaveLength(2);
    const text = describeStoreFailure(opened.error, 'demo.yaml');
    expect(text).toContain(`the server ${endpoint} does not honour conditional writes`);
    expect(text).toContain('pass --no-lock');
  });

  test('opens with --no-lock (no probe)', async () => {
    puts.length = 0;
    const opened = await openRecipeStore(options(false));
    expect(opened.ok).toBe(true);
    expect(puts.some((p) => p.includes('probe'))).toBe(false);
    if (opened.ok) await opened.value.close();
  });
});
