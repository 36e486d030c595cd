// DeleteObjects (POST bucket ?delete): up to 1000 keys in one XML document, which must
// carry an integrity header as S3 requires (Content-MD5, or an x-amz-checksum-* the
// newer SDKs send instead; both checked), Quiet mode, and an error per key that could
// not be deleted (a version id other than `null`: this store keeps no versions).
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { readSmallBodyOrAnswer, sendMalformedXml } from './s3-body.js';
import {
  S3_NS,
  header,
  sendError,
  sendXml,
  type S3ApiContext,
  type S3Request,
} from './s3-responses.js';
import type { S3Call } from './s3-route.js';
import { parseDeleteObjects } from './s3-xml-bodies.js';
import { xmlDocument, type XmlNode } from './xml.js';

/** The largest DeleteObjects body read (1000 keys of 1024 bytes, escaped, fit). */
const MAX_DELETE_BODY = 8 * 1024 * 1024;

/** base64 digests of `body` by the header that announces them. */
const CHECKSUMS: Readonly<Record<string, ((body: Buffer) => string) | undefined>> = {
  'content-md5': (body) => createHash('md5').update(body).digest('base64'),
  'x-amz-checksum-sha256': (body) => createHash('sha256').update(body).digest('base64'),
  'x-amz-checksum-sha1': (body) => createHash('sha1').update(body).digest('base64'),
  'x-amz-checksum-crc32': crc32Base64,
  // CRC32C and CRC64NVME have no implementation in Node: accepted as present, unchecked.
  'x-amz-checksum-crc32c': undefined,
  'x-amz-checksum-crc64nvme': undefined,
};

function crc32Base64(body: Buffer): string {
  const value = (zlib as { crc32?: (data: Buffer) => number }).crc32?.(body);
  if (value === undefined) return '';
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

/**
 * The first integrity header that does not match `body` ([header, sent]), 'missing' when
 * there is none at all, or undefined when every one present matches.
 */
export function integrityProblem(
  headers: (name: string) => string | undefined,
  body: Buffer,
): 'missing' | readonly [string, string] | undefined {
  let present = false;
  for (const [name, digest] of Object.entries(CHECKSUMS)) {
    const sent = headers(name);
    if (sent === undefined) continue;
    present = true;
    const computed = digest?.(body) ?? '';
    if (computed !== '' && computed !== sent.trim()) return [name, sent];
  }
  return present ? undefined : 'missing';
}

/** POST ?delete on a bucket. */
export async function deleteObjects(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  const resource = `/${call.bucket}`;
  const body = await readSmallBodyOrAnswer(s, call.caller, MAX_DELETE_BODY, call.id, resource);
  if (body === undefined) return;
  const problem = integrityProblem((name) => header(s.req, name), body);
  if (problem === 'missing') {
    sendError(
      s,
      400,
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header).',
      call.id,
      resource,
    );
    return;
  }
  if (problem !== undefined) {
    sendError(
      s,
      400,
      'BadDigest',
      `The ${problem[0]} you specified did not match the calculated checksum.`,
      call.id,
      resource,
    );
    return;
  }
  const parsed = parseDeleteObjects(body.toString('utf8'));
  if (!parsed.ok) {
    sendMalformedXml(s, parsed.error.problem, call.id, resource);
    return;
  }
  const results: XmlNode[] = [];
  for (const object of parsed.value.objects) {
    const versionNode: XmlNode =
      object.versionId !== undefined ? ['VersionId', object.versionId] : undefined;
    if (object.versionId !== undefined && object.versionId !== 'null') {
      results.push([
        'Error',
        [
          ['Key', object.key],
          versionNode,
          ['Code', 'NoSuchVersion'],
          ['Message', 'The specified version does not exist.'],
        ],
      ]);
      continue;
    }
    const deleted = await ctx.store.delete(call.bucket, object.key);
    if (!deleted.ok)
      results.push([
        'Error',
        [
          ['Key', object.key],
          ['Code', deleted.error.code],
          ['Message', 'The object could not be deleted.'],
        ],
      ]);
    else if (!parsed.value.quiet) results.push(['Deleted', [['Key', object.key], versionNode]]);
  }
  sendXml(s.res, 200, xmlDocument('DeleteResult', S3_NS, results), call.id);
}
