// The recorded euca2ools 3.4.1 session (test/fixtures/euca2ools-golden/traffic): its
// requests with their bodies, raw HTTP replay of one request, and euca2ools' way of
// printing DescribeImages rows, for euca2ools-replay.test.ts.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { GOLDEN_DIR } from '../../helpers/golden.js';

const TRAFFIC = join(GOLDEN_DIR, 'traffic');

/** One recorded request: headers exactly as sent, the body inline or only its length and MD5. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly body_len: number;
  readonly body_md5: string;
  /** When it was sent (seconds since the epoch). */
  readonly t: number;
}

export interface SessionRequest extends RecordedRequest {
  readonly index: number;
  readonly bytes: Buffer;
  readonly isS3: boolean;
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

/** The bundle file named `name` (parts are not stored in the recording, only their MD5). */
function bundleFile(name: string): Buffer {
  const bundles = join(GOLDEN_DIR, 'bundles');
  for (const dir of readdirSync(bundles))
    if (readdirSync(join(bundles, dir)).includes(name))
      return readFileSync(join(bundles, dir, name));
  throw new Error(`no golden bundle file named ${name}`);
}

/** Every request of the session, each with its body (checked against the recorded MD5). */
export function loadSession(): SessionRequest[] {
  return readFileSync(join(TRAFFIC, 'euca2ools-session.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line, index) => {
      const r = JSON.parse(line) as RecordedRequest;
      const inline = r.body !== undefined ? Buffer.from(r.body, 'utf8') : undefined;
      const bytes =
        inline?.length === r.body_len ? inline : bundleFile(r.path.split('/').pop() ?? '');
      if (md5(bytes) !== r.body_md5)
        throw new Error(`request ${index}: the body found does not have the recorded MD5`);
      return { ...r, index, bytes, isS3: r.path.startsWith('/services/objectstorage') };
    });
}

/** The console of the session: each `+ command` with the lines it printed. */
export function loadConsole(): { command: string; output: string[] }[] {
  const blocks: { command: string; output: string[] }[] = [];
  for (const line of readFileSync(join(TRAFFIC, 'euca2ools-session.out'), 'utf8').split('\n')) {
    if (line.startsWith('+ ')) blocks.push({ command: line.slice(2), output: [] });
    else if (line !== '') blocks.at(-1)?.output.push(line);
  }
  return blocks;
}

export interface Reply {
  readonly status: number;
  readonly body: Buffer;
}

/** Sends `r` as recorded (same method, path, headers, body) to 127.0.0.1:port. */
export function replay(
  port: number,
  agent: Agent,
  r: SessionRequest,
  authorization?: string,
): Promise<Reply> {
  const headers = {
    ...r.headers,
    ...(authorization !== undefined ? { Authorization: authorization } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.query === '' ? r.path : `${r.path}?${r.query}`,
        headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.bytes.length > 0 ? r.bytes : undefined);
  });
}

/** The same Authorization header with one character of its signature changed (at `seed`). */
export function mutateSignature(authorization: string, seed: number): string {
  const v4 = /Signature=([0-9a-f]{64})$/.exec(authorization);
  const start = v4 ? authorization.length - 64 : authorization.lastIndexOf(':') + 1;
  const length = v4 ? 64 : 27; // 20 bytes: 27 base64 characters before the '='
  const at = start + (seed % length);
  const old = authorization[at] ?? '';
  const replacement = v4 ? (old === '0' ? '1' : '0') : old === 'A' ? 'B' : 'A';
  return `${authorization.slice(0, at)}${replacement}${authorization.slice(at + 1)}`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => name === 'item',
});

/** The parsed XML body (tag values as strings, `item` always a list). */
export function parseXml(body: Buffer): Record<string, unknown> {
  return parser.parse(body.toString('utf8')) as Record<string, unknown>;
}

type ImageItem = Record<string, string | undefined>;

/** The `imagesSet` items of a DescribeImagesResponse. */
export function describedImages(body: Buffer): ImageItem[] {
  const doc = parseXml(body) as {
    DescribeImagesResponse?: { imagesSet?: { item?: ImageItem[] } | '' };
  };
  const set = doc.DescribeImagesResponse?.imagesSet;
  return typeof set === 'object' ? (set.item ?? []) : [];
}

/**
 * The IMAGE rows euca2ools 3.4.1 prints for these images (DescribeImages.print_result:
 * unique by id, sorted by id, tab-separated). The third column is `owner/name` when the
 * answer has a name, else the manifest location; `location: true` prints the location
 * regardless (the recording's server answered without names).
 */
export function imageRows(images: readonly ImageItem[], options: { location: boolean }): string[] {
  const byId = new Map<string, ImageItem>();
  for (const image of images) {
    const id = image.imageId ?? '';
    if (!byId.has(id)) byId.set(id, image);
  }
  return [...byId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, i]) =>
      [
        'IMAGE',
        i.imageId,
        !options.location && i.name !== undefined
          ? `${i.imageOwnerId ?? ''}/${i.name}`
          : i.imageLocation,
        i.imageOwnerAlias ?? i.imageOwnerId,
        i.imageState,
        i.isPublic === 'true' ? 'public' : 'private',
        i.architecture,
        i.imageType,
        i.kernelId,
        i.ramdiskId,
        i.platform,
        i.rootDeviceType,
        i.virtualizationType,
        i.hypervisor,
      ]
        .map((v) => v ?? '')
        .join('\t'),
    );
}
