// The local cloud's S3 multipart listings: ListParts (GET object ?uploadId, max-parts and
// part-number-marker) and ListMultipartUploads (GET bucket ?uploads, prefix, key-marker,
// upload-id-marker, max-uploads, encoding-type=url; no delimiter grouping).
import { MAX_PART_NUMBER } from './multipart-rules.js';
import { sendMultipartError } from './s3-multipart.js';
import { S3_NS, sendXml, type S3ApiContext, type S3Request } from './s3-responses.js';
import type { S3Call } from './s3-route.js';
import { uriEncode } from './query-string.js';
import { xmlDocument, type XmlNode } from './xml.js';

/**
 * A non-negative integer query parameter: `fallback` when absent or not a number, at most
 * `max` (S3 caps max-parts and max-uploads at 1000).
 */
function countParam(
  query: ReadonlyMap<string, string>,
  name: string,
  limits: { readonly fallback: number; readonly max: number },
): number {
  const text = query.get(name);
  const value = text !== undefined && /^\d+$/.test(text) ? Number(text) : limits.fallback;
  return Math.min(value, limits.max);
}

const owner = (name: string, id: string): XmlNode => [
  name,
  [
    ['ID', id],
    ['DisplayName', id],
  ],
];

/** GET ?uploadId=ID: the parts uploaded so far (max-parts, part-number-marker). */
export async function listParts(s: S3Request, ctx: S3ApiContext, call: S3Call): Promise<void> {
  const uploadId = call.query.get('uploadId') ?? '';
  const listed = await ctx.uploads.listParts(call.bucket, call.key, uploadId);
  if (!listed.ok) {
    sendMultipartError(s, listed.error, call);
    return;
  }
  const marker = countParam(call.query, 'part-number-marker', {
    fallback: 0,
    max: MAX_PART_NUMBER,
  });
  const maxParts = countParam(call.query, 'max-parts', { fallback: 1000, max: 1000 });
  const after = listed.value.parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const { upload } = listed.value;
  sendXml(
    s.res,
    200,
    xmlDocument('ListPartsResult', S3_NS, [
      ['Bucket', call.bucket],
      ['Key', call.key],
      ['UploadId', uploadId],
      owner('Initiator', upload.owner),
      owner('Owner', upload.owner),
      ['StorageClass', 'STANDARD'],
      ['PartNumberMarker', marker],
      ['NextPartNumberMarker', page.at(-1)?.partNumber ?? marker],
      ['MaxParts', maxParts],
      ['IsTruncated', truncated],
      ...page.map((p): XmlNode => [
        'Part',
        [
          ['PartNumber', p.partNumber],
          ['LastModified', p.lastModified],
          ['ETag', `"${p.etag}"`],
          ['Size', p.size],
        ],
      ]),
    ]),
    call.id,
  );
}

/** GET bucket ?uploads: uploads in progress (prefix, key-marker, upload-id-marker, max-uploads). */
export async function listMultipartUploads(
  s: S3Request,
  ctx: S3ApiContext,
  call: S3Call,
): Promise<void> {
  const prefix = call.query.get('prefix') ?? '';
  const listed = await ctx.uploads.list(call.bucket, prefix);
  if (!listed.ok) {
    sendMultipartError(s, listed.error, call);
    return;
  }
  const keyMarker = call.query.get('key-marker') ?? '';
  const idMarker = call.query.get('upload-id-marker') ?? '';
  const maxUploads = countParam(call.query, 'max-uploads', { fallback: 1000, max: 1000 });
  const after = listed.value.filter((u) =>
    keyMarker === ''
      ? true
      : u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker),
  );
  const page = after.slice(0, maxUploads);
  const truncated = after.length > page.length;
  const urlEncode = call.query.get('encoding-type') === 'url';
  const key = (k: string): string => (urlEncode ? uriEncode(k) : k);
  sendXml(
    s.res,
    200,
    xmlDocument('ListMultipartUploadsResult', S3_NS, [
      ['Bucket', call.bucket],
      ['KeyMarker', key(keyMarker)],
      ['UploadIdMarker', idMarker],
      ['NextKeyMarker', key(page.at(-1)?.key ?? '')],
      ['NextUploadIdMarker', page.at(-1)?.uploadId ?? ''],
      urlEncode ? ['EncodingType', 'url'] : undefined,
      ['Prefix', key(prefix)],
      ['MaxUploads', maxUploads],
      ['IsTruncated', truncated],
      ...page.map((u): XmlNode => [
        'Upload',
        [
          ['Key', key(u.key)],
          ['UploadId', u.uploadId],
          owner('Initiator', u.owner),
          owner('Owner', u.owner),
          ['StorageClass', 'STANDARD'],
          ['Initiated', u.initiated],
        ],
      ]),
    ]),
    call.id,
  );
}
