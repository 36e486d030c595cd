// probeConditionalWrites against fake S3 servers: one that honours If-None-Match (412 on
// the second create), one that ignores it (overwrites), one that rejects the header (501),
// one that refuses the first create (AccessDenied) and one unreachable; the probe key is
// fresh each time and deleted afterwards.
import { describe, expect, test } from '@jest/globals';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  probeConditionalWrites,
  type ConditionalWriteClient,
} from '../../../src/cloud/conditional-writes.js';

const ENDPOINT = 'http://objects.example:8773/services/objectstorage';

/** An SDK-like service error. */
function serviceError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode }, $fault: 'client' });
}

type Behaviour = 'honours' | 'ignores' | 'not-implemented' | 'denied' | 'unreachable';

/** A fake S3 of one behaviour, recording what it was asked and what it holds. */
function fakeS3(behaviour: Behaviour): ConditionalWriteClient & {
  calls: string[];
  keys: Set<string>;
} {
  const keys = new Set<string>();
  const calls: string[] = [];
  return {
    calls,
    keys,
    send(command) {
      const input = command.input as { Key?: string; IfNoneMatch?: string };
      const key = input.Key ?? '';
      if (behaviour === 'unreachable')
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        );
      if (command instanceof DeleteObjectCommand) {
        calls.push(`delete ${key}`);
        keys.delete(key);
        return Promise.resolve({});
      }
      if (!(command instanceof PutObjectCommand)) throw new Error('unexpected command');
      calls.push(`put ${key} If-None-Match=${String(input.IfNoneMatch)}`);
      if (behaviour === 'denied') return Promise.reject(serviceError('AccessDenied', 403));
      if (keys.has(key)) {
        if (behaviour === 'honours') return Promise.reject(serviceError('PreconditionFailed', 412));
        if (behaviour === 'not-implemented')
          return Promise.reject(serviceError('NotImplemented', 501));
      }
      keys.add(key);
      return Promise.resolve({ ETag: '"x"' });
    },
  };
}

const probe = (client: ConditionalWriteClient) =>
  probeConditionalWrites(client, {
    bucket: 'state',
    prefix: 'recipes/debian/',
    endpoint: ENDPOINT,
  });

describe('probeConditionalWrites', () => {
  test('a server that refuses the second create honours conditional writes; the key is deleted', async () => {
    const s3 = fakeS3('honours');
    const result = await probe(s3);
    if (!result.ok) throw new Error('probe failed');
    expect(result.value).toMatchObject({
      endpoint: ENDPOINT,
      bucket: 'state',
      honoured: true,
      secondCreate: { kind: 'refused', httpStatus: 412, code: 'PreconditionFailed' },
    });
    expect(result.value.key).toMatch(/^recipes\/debian\/\.probe-conditional-write-[0-9a-f]{16}$/);
    const key = result.value.key;
    expect(s3.calls).toEqual([
      `put ${key} If-None-Match=*`,
      `put ${key} If-None-Match=*`,
      `delete ${key}`,
    ]);
    expect(s3.keys.size).toBe(0);
    const again = await probe(fakeS3('honours'));
    expect(again.ok && again.value.key).not.toBe(key);
  });

  test('a server that overwrites does not honour them (and the key is still deleted)', async () => {
    const s3 = fakeS3('ignores');
    const result = await probe(s3);
    expect(result.ok && result.value.honoured).toBe(false);
    expect(result.ok && result.value.secondCreate).toEqual({ kind: 'overwrote' });
    expect(s3.keys.size).toBe(0);
  });

  test('a server that answers NotImplemented does not honour them', async () => {
    const result = await probe(fakeS3('not-implemented'));
    expect(result.ok && result.value).toMatchObject({
      honoured: false,
      secondCreate: { kind: 'rejected-header', httpStatus: 501, code: 'NotImplemented' },
    });
  });

  test('a probe that cannot be made is a CloudFailure naming the endpoint and operation', async () => {
    const denied = await probe(fakeS3('denied'));
    expect(denied.ok ? undefined : denied.error).toMatchObject({
      reason: 'access-denied',
      endpoint: ENDPOINT,
      operation: 'PutObject',
      httpStatus: 403,
    });
    const unreachable = await probe(fakeS3('unreachable'));
    expect(unreachable.ok ? undefined : unreachable.error).toMatchObject({
      reason: 'unreachable',
      endpoint: ENDPOINT,
    });
  });
});
