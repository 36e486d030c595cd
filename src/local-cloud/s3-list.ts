// ListObjects (v1) and ListObjectsV2 for the local cloud: prefix, delimiter (common
// prefixes), markers and continuation tokens, max-keys, encoding-type=url.
import type { ObjectMeta } from './bucket-store.js';
import {
  S3_NS,
  sendStoreError,
  sendXml,
  type S3ApiContext,
  type S3Request,
} from './s3-responses.js';
import { uriEncode } from './query-string.js';
import { xmlDocument, type XmlNode } from './xml.js';

export function listObjects(
  s: S3Request,
  ctx: S3ApiContext,
  bucket: string,
  query: ReadonlyMap<string, string>,
  id: string,
): void {
  const v2 = query.get('list-type') === '2';
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.max(0, Math.min(1000, Number(query.get('max-keys') ?? '1000') || 0));
  const urlEncode = query.get('encoding-type') === 'url';
  const enc = (text: string): string => (urlEncode ? uriEncode(text).replace(/%2F/g, '/') : text);
  const token = query.get('continuation-token');
  const after = v2
    ? token !== undefined
      ? Buffer.from(token, 'base64').toString('utf8')
      : (query.get('start-after') ?? '')
    : (query.get('marker') ?? '');
  const listed = ctx.store.list(bucket, prefix);
  if (!listed.ok) {
    sendStoreError(s, listed.error, id, `/${bucket}`);
    return;
  }
  const contents: ObjectMeta[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last = '';
  for (const object of listed.value) {
    if (after !== '' && object.key <= after) continue;
    let commonPrefix: string | undefined;
    if (delimiter !== '') {
      const at = object.key.indexOf(delimiter, prefix.length);
      if (at >= 0) commonPrefix = object.key.slice(0, at + delimiter.length);
    }
    if (commonPrefix !== undefined && prefixes.at(-1) === commonPrefix) continue;
    if (commonPrefix !== undefined && after !== '' && after.startsWith(commonPrefix)) continue;
    if (contents.length + prefixes.length >= maxKeys) {
      truncated = true;
      break;
    }
    if (commonPrefix !== undefined) {
      prefixes.push(commonPrefix);
      last = commonPrefix;
    } else {
      contents.push(object);
      last = object.key;
    }
  }
  const owner = (o: ObjectMeta): XmlNode => [
    'Owner',
    [
      ['ID', o.owner],
      ['DisplayName', o.owner],
    ],
  ];
  const body = xmlDocument('ListBucketResult', S3_NS, [
    ['Name', bucket],
    ['Prefix', enc(prefix)],
    ...(v2
      ? [
          ['KeyCount', contents.length + prefixes.length] as XmlNode,
          token !== undefined ? (['ContinuationToken', token] as XmlNode) : undefined,
          truncated
            ? (['NextContinuationToken', Buffer.from(last).toString('base64')] as XmlNode)
            : undefined,
          query.has('start-after')
            ? (['StartAfter', enc(query.get('start-after') ?? '')] as XmlNode)
            : undefined,
        ]
      : [
          ['Marker', enc(after)] as XmlNode,
          truncated && delimiter !== '' ? (['NextMarker', enc(last)] as XmlNode) : undefined,
        ]),
    ['MaxKeys', maxKeys],
    delimiter !== '' ? ['Delimiter', enc(delimiter)] : undefined,
    urlEncode ? ['EncodingType', 'url'] : undefined,
    ['IsTruncated', truncated],
    ...contents.map((o): XmlNode => [
      'Contents',
      [
        ['Key', enc(o.key)],
        ['LastModified', o.lastModified],
        ['ETag', `"${o.etag}"`],
        ['Size', o.size],
        ['StorageClass', 'STANDARD'],
        v2 && query.get('fetch-owner') !== 'true' ? undefined : owner(o),
      ],
    ]),
    ...prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
  ]);
  sendXml(s.res, 200, body, id);
}
