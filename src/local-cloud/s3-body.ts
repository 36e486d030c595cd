// A PUT's body as S3 sends it (plain, or aws-chunked with or without chunk signatures)
// and what the client announced about it (Content-MD5, signed SHA-256, length): shared
// by PutObject and UploadPart. Also the conditional-write headers of a write, and small
// XML bodies read whole (CompleteMultipartUpload, DeleteObjects).
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';
import { AwsChunkedDecoder } from './aws-chunked.js';
import type { BodyExpectations } from './body-file.js';
import type { S3Caller } from './s3-auth.js';
import {
  writeConditionFromHeaders,
  type UnsupportedCondition,
  type WriteCondition,
} from './s3-conditions.js';
import { header, sendError, sendStoreError, type S3Request } from './s3-responses.js';

function bodyStream(s: S3Request, auth: S3Caller): Readable {
  const encoding = header(s.req, 'content-encoding') ?? '';
  const streaming = auth.payloadHash.startsWith('STREAMING-');
  if (!streaming && !encoding.includes('aws-chunked')) return s.req;
  const signed = auth.payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const decoder = new AwsChunkedDecoder(signed ? auth.sigv4 : undefined);
  s.req.on('error', (error) => decoder.destroy(error));
  return s.req.pipe(decoder);
}

/** A request body ready for the store: the decoded stream and what to check it against. */
export interface AnnouncedBody {
  readonly stream: Readable;
  readonly expect: BodyExpectations;
}

/**
 * The request's body and announced digests and length, or undefined after answering
 * EntityTooLarge when the announced length exceeds `maxSize` (before a byte is read; a
 * body without a length is cut off by the store once it grows past the limit).
 */
export function announcedBody(
  s: S3Request,
  auth: S3Caller,
  options: { readonly maxSize: number; readonly id: string; readonly resource: string },
): AnnouncedBody | undefined {
  const md5Header = header(s.req, 'content-md5');
  const expectedMd5 =
    md5Header !== undefined ? Buffer.from(md5Header, 'base64').toString('hex') : undefined;
  const streaming =
    auth.payloadHash.startsWith('STREAMING-') ||
    (header(s.req, 'content-encoding') ?? '').includes('aws-chunked');
  const lengthHeader = streaming
    ? header(s.req, 'x-amz-decoded-content-length')
    : header(s.req, 'content-length');
  const expectedLength = lengthHeader !== undefined ? Number(lengthHeader) : undefined;
  if (expectedLength !== undefined && expectedLength > options.maxSize) {
    sendStoreError(
      s,
      { code: 'EntityTooLarge', limit: options.maxSize },
      options.id,
      options.resource,
    );
    return undefined;
  }
  const expectedSha256 = /^[0-9a-f]{64}$/.test(auth.payloadHash) ? auth.payloadHash : undefined;
  return {
    stream: bodyStream(s, auth),
    expect: {
      maxSize: options.maxSize,
      ...(expectedMd5 !== undefined ? { expectedMd5 } : {}),
      ...(expectedSha256 !== undefined ? { expectedSha256 } : {}),
      ...(expectedLength !== undefined && Number.isSafeInteger(expectedLength)
        ? { expectedLength }
        : {}),
    },
  };
}

/**
 * The write condition of a PutObject or CompleteMultipartUpload (If-None-Match: * or
 * If-Match), or an answer already sent: 501 NotImplemented for a value S3 does not
 * implement on writes (If-None-Match with an ETag), naming the header.
 */
export function requestWriteCondition(
  s: S3Request,
  id: string,
): Result<WriteCondition | undefined, UnsupportedCondition> {
  const condition = writeConditionFromHeaders({
    ifMatch: header(s.req, 'if-match'),
    ifNoneMatch: header(s.req, 'if-none-match'),
  });
  if (!condition.ok)
    sendError(
      s,
      501,
      'NotImplemented',
      `A header you provided implies functionality that is not implemented: ${condition.error.header}: ${condition.error.value} (writes take If-None-Match: * or If-Match: "<etag>").`,
      id,
      undefined,
      { details: [['Header', condition.error.header]] },
    );
  return condition;
}

/** Why a small XML body could not be read. */
export type SmallBodyError =
  | { readonly code: 'MaxMessageLengthExceeded'; readonly limit: number }
  | { readonly code: 'XAmzContentSHA256Mismatch'; readonly expected: string; readonly got: string }
  | { readonly code: 'Stream'; readonly cause: unknown };

/**
 * A small request body (an XML document) in memory, at most `limit` bytes, checked
 * against the SHA-256 a SigV4 client signed.
 */
export async function readSmallBody(
  s: S3Request,
  auth: S3Caller,
  limit: number,
): Promise<Result<Buffer, SmallBodyError>> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of s.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) return err({ code: 'MaxMessageLengthExceeded', limit });
      chunks.push(chunk);
    }
  } catch (cause) {
    return err({ code: 'Stream', cause });
  }
  const body = Buffer.concat(chunks);
  if (/^[0-9a-f]{64}$/.test(auth.payloadHash)) {
    const got = createHash('sha256').update(body).digest('hex');
    if (got !== auth.payloadHash)
      return err({ code: 'XAmzContentSHA256Mismatch', expected: auth.payloadHash, got });
  }
  return ok(body);
}

/**
 * readSmallBody for a call that answers its own failures (400 and a closed connection when
 * too big; the store's error otherwise). undefined once answered.
 */
export async function readSmallBodyOrAnswer(
  s: S3Request,
  auth: S3Caller,
  limit: number,
  id: string,
  resource: string,
): Promise<Buffer | undefined> {
  const body = await readSmallBody(s, auth, limit);
  if (body.ok) return body.value;
  if (body.error.code === 'MaxMessageLengthExceeded')
    sendError(s, 400, body.error.code, 'Your request was too big.', id, resource, {
      closeConnection: true,
    });
  else sendStoreError(s, body.error, id, resource);
  return undefined;
}

/** 400 MalformedXML, S3's message with what was wrong. */
export function sendMalformedXml(
  s: S3Request,
  problem: string,
  id: string,
  resource: string,
): void {
  sendError(
    s,
    400,
    'MalformedXML',
    `The XML you provided was not well-formed or did not validate against our published schema: ${problem}.`,
    id,
    resource,
  );
}
