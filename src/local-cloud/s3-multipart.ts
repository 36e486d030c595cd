// The local cloud's S3 multipart handlers: CreateMultipartUpload (POST ?uploads),
// UploadPart (PUT ?partNumber&uploadId, plain or aws-chunked), CompleteMultipartUpload
// (POST ?uploadId, If-None-Match / If-Match honoured), AbortMultipartUpload (DELETE
// ?uploadId), ListParts (GET ?uploadId) and ListMultipartUploads (GET bucket ?uploads).
// Storage is multipart-store.ts's, the rules multipart-rules.ts's.
import type { MultipartError } from './multipart-store.js';
import { parsePartNumber, MAX_PART_NUMBER } from './multipart-rules.js';
import {
  announcedBody,
  readSmallBodyOrAnswer,
  requestWriteCondition,
  sendMalformedXml,
} from './s3-body.js';
import { CANNED_ACLS } from './s3-objects.js';
import {
  S3_NS,
  header,
  sendError,
  sendStoreError,
  sendXml,
  type S3ApiContext,
  type S3Request,
} from './s3-responses.js';
import type { S3Call } from './s3-route.js';
import { parseCompleteMultipartUpload } from './s3-xml-bodies.js';
import { uriEncode } from './query-string.js';
import { xmlDocument } from './xml.js';

/** The largest CompleteMultipartUpload body read (10,000 parts with checksums fit). */
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

const resourceOf = (call: S3Call): string => `/${call.bucket}/${call.key}`;

/** Answers a multipart failure as S3 does (code, status, message and detail elements). */
export function sendMultipartError(s: S3Request, error: MultipartError, call: S3Call): void {
  const resource = resourceOf(call);
  switch (error.code) {
    case 'NoSuchUpload':
      sendError(
        s,
        404,
        error.code,
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        call.id,
        resource,
        { details: [['UploadId', error.uploadId]] },
      );
      return;
    case 'InvalidPart':
      sendError(
        s,
        400,
        error.code,
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
        call.id,
        resource,
        {
          details: [
            ['PartNumber', error.partNumber],
            ['ETag', error.etag],
          ],
        },
      );
      return;
    case 'InvalidPartOrder':
      sendError(
        s,
        400,
        error.code,
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
        call.id,
        resource,
      );
      return;
    case 'EntityTooSmall':
      sendError(
        s,
        400,
        error.code,
        'Your proposed upload is smaller than the minimum allowed object size.',
        call.id,
        resource,
        {
          details: [
            ['ProposedSize', error.size],
            ['MinSizeAllowed', error.minSize],
            ['PartNumber', error.partNumber],
            ['ETag', error.etag],
          ],
        },
      );
      return;
    default:
      sendStoreError(s, error, call.id, resource);
  }
}

/** POST ?uploads on an object: a new upload id. */
export async function createMultipartUpload(
  s: S3Request,
  ctx: S3ApiContext,
  call: S3Call,
): Promise<void> {
  s.req.resume();
  const acl = header(s.req, 'x-amz-acl') ?? 'private';
  if (!CANNED_ACLS.has(acl)) {
    sendError(s, 400, 'InvalidArgument', `Unknown canned ACL '${acl}'.`, call.id, resourceOf(call));
    return;
  }
  const created = await ctx.uploads.create(call.bucket, call.key, {
    owner: call.account,
    acl,
    contentType: header(s.req, 'content-type') ?? 'binary/octet-stream',
  });
  if (!created.ok) {
    sendMultipartError(s, created.error, call);
    return;
  }
  sendXml(
    s.res,
    200,
    xmlDocument('InitiateMultipartUploadResult', S3_NS, [
      ['Bucket', call.bucket],
      ['Key', call.key],
      ['UploadId', created.value.uploadId],
    ]),
    call.id,
  );
}

/** PUT ?partNumber=N&uploadId=ID: one part, its MD5 as ETag. */
export async function uploadPart(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  const resource = resourceOf(call);
  if (header(s.req, 'x-amz-copy-source') !== undefined) {
    sendError(
      s,
      501,
      'NotImplemented',
      'UploadPartCopy is not implemented by the local cloud.',
      call.id,
    );
    return;
  }
  const partNumber = parsePartNumber(call.query.get('partNumber'));
  if (partNumber === undefined) {
    sendError(
      s,
      400,
      'InvalidArgument',
      `Part number must be an integer between 1 and ${String(MAX_PART_NUMBER)}, inclusive`,
      call.id,
      resource,
      {
        details: [
          ['ArgumentName', 'partNumber'],
          ['ArgumentValue', call.query.get('partNumber') ?? ''],
        ],
      },
    );
    return;
  }
  const body = announcedBody(s, call.caller, { maxSize: ctx.maxObjectSize, id: call.id, resource });
  if (body === undefined) return;
  const uploadId = call.query.get('uploadId') ?? '';
  const part = await ctx.uploads.uploadPart(
    { bucket: call.bucket, key: call.key, uploadId },
    partNumber,
    body.stream,
    body.expect,
  );
  if (!part.ok) {
    sendMultipartError(s, part.error, call);
    return;
  }
  s.res.writeHead(200, {
    etag: `"${part.value.etag}"`,
    'x-amz-request-id': call.id,
    'content-length': 0,
  });
  s.res.end();
}

/** POST ?uploadId=ID with the part list: the object, atomically. */
export async function completeMultipartUpload(
  s: S3Request,
  ctx: S3ApiContext,
  call: S3Call,
): Promise<void> {
  const condition = requestWriteCondition(s, call.id);
  if (!condition.ok) return;
  const body = await readSmallBodyOrAnswer(
    s,
    call.caller,
    MAX_COMPLETE_BODY,
    call.id,
    resourceOf(call),
  );
  if (body === undefined) return;
  const parts = parseCompleteMultipartUpload(body.toString('utf8'));
  if (!parts.ok) {
    sendMalformedXml(s, parts.error.problem, call.id, resourceOf(call));
    return;
  }
  const uploadId = call.query.get('uploadId') ?? '';
  const done = await ctx.uploads.complete(
    { bucket: call.bucket, key: call.key, uploadId },
    parts.value,
    condition.value,
  );
  if (!done.ok) {
    sendMultipartError(s, done.error, call);
    return;
  }
  const host = header(s.req, 'host') ?? '127.0.0.1';
  sendXml(
    s.res,
    200,
    xmlDocument('CompleteMultipartUploadResult', S3_NS, [
      [
        'Location',
        `http://${host}/${uriEncode(call.bucket)}/${call.key.split('/').map(uriEncode).join('/')}`,
      ],
      ['Bucket', call.bucket],
      ['Key', call.key],
      ['ETag', `"${done.value.etag}"`],
    ]),
    call.id,
    { etag: `"${done.value.etag}"` },
  );
}

/** DELETE ?uploadId=ID: the upload and its parts are gone (204). */
export async function abortMultipartUpload(
  s: S3Request,
  ctx: S3ApiContext,
  call: S3Call,
): Promise<void> {
  const aborted = await ctx.uploads.abort(call.bucket, call.key, call.query.get('uploadId') ?? '');
  if (!aborted.ok) {
    sendMultipartError(s, aborted.error, call);
    return;
  }
  s.res.writeHead(204, { 'x-amz-request-id': call.id });
  s.res.end();
}
