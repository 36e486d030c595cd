// A PUT's body as S3 sends it (plain, or aws-chunked with or without chunk signatures)
// and what the client announced about it (Content-MD5, signed SHA-256, length): shared
// by PutObject and UploadPart. Also the conditional-write headers of a write.
import type { Readable } from 'node:stream';
import type { Result } from '../core/result.js';
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
