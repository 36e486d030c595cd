// The local cloud's HTTP side: which API a request is for (EC2 at /services/compute, S3
// at /services/objectstorage or /), the stores wired into each API's context, an
// unexpected error as S3's InternalError, and listening. Start-up and the data dir are
// server.ts's.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { BucketStore } from './bucket-store.js';
import type { CheckContext } from './bundle-checks.js';
import { handleEc2, type Ec2ApiContext } from './ec2-api.js';
import type { LocalIdentity } from './identity.js';
import type { ImageStore } from './image-store.js';
import { MultipartStore } from './multipart-store.js';
import { handleS3 } from './s3-api.js';

export const EC2_PATH = '/services/compute';
export const S3_PATH = '/services/objectstorage';
/** The largest manifest the bundle checks read (Eucalyptus: 5 MiB). */
const MAX_MANIFEST_BYTES = 5 * 1024 * 1024;

/** Everything a request may need: the account, both stores and the server's settings. */
export interface CloudServices {
  readonly identity: LocalIdentity;
  readonly store: BucketStore;
  readonly images: ImageStore;
  readonly region: string;
  readonly now: () => number;
  readonly maxObjectSize: number;
  /** The EC2 settings taken from StartLocalCloudOptions as given. */
  readonly ec2: Pick<Ec2ApiContext, 'pendingMs' | 'defaultKernelId' | 'defaultRamdiskId'>;
}

/** What the bundle checks may see of the account and the S3 store. */
function bundleCheckContext(services: CloudServices): Omit<CheckContext, 'images'> {
  const { identity: id, store } = services;
  return {
    accountId: id.accountId,
    isAdmin: true,
    userCertPems: [id.userCertPem],
    cloudKeyPem: id.cloudKeyPem,
    readObject: async (bucket, key) => {
      const meta = store.head(bucket, key);
      // Too large a manifest is read as one byte too many, so the check refuses it unread.
      if (!meta.ok || meta.value.size > MAX_MANIFEST_BYTES)
        return meta.ok ? Buffer.alloc(MAX_MANIFEST_BYTES + 1) : undefined;
      const bytes = await store.readAll(bucket, key);
      return bytes.ok ? bytes.value : undefined;
    },
    objectInfo: (bucket, key) => {
      const meta = store.head(bucket, key);
      return meta.ok ? { size: meta.value.size, sha1: meta.value.sha1 } : undefined;
    },
  };
}

/** Serves one request with the EC2 or the S3 API, by path. */
export function requestHandler(
  services: CloudServices,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { identity: id, store, images, now } = services;
  const secretFor = (key: string): string | undefined =>
    key === id.accessKeyId ? id.secretAccessKey : undefined;
  const accountFor = (): string => id.accountId;
  const ec2: Ec2ApiContext = {
    images,
    secretFor,
    accountFor,
    now,
    ...services.ec2,
    checks: () => bundleCheckContext(services),
  };
  const s3 = {
    store,
    uploads: new MultipartStore(store),
    secretFor,
    accountFor,
    region: services.region,
    now,
    maxObjectSize: services.maxObjectSize,
  };
  return async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    if (rawPath === EC2_PATH || rawPath === `${EC2_PATH}/`) {
      await handleEc2(req, res, { rawPath, rawQuery }, ec2);
      return;
    }
    const routePath =
      rawPath.startsWith(`${S3_PATH}/`) || rawPath === S3_PATH
        ? rawPath.slice(S3_PATH.length) || '/'
        : rawPath;
    await handleS3({ req, res, rawPath, routePath, rawQuery }, s3);
  };
}

/** An error a handler threw (a bug): 500 InternalError, or a cut connection once answering. */
const answerInternalError = (res: ServerResponse) => (error: unknown) => {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>${String(error instanceof Error ? error.message : error).replace(/[<&>]/g, '')}</Message></Error>`;
  res.writeHead(500, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
};

/** The body size a request announces (x-amz-decoded-content-length, else Content-Length), 0 if none. */
function announcedSize(req: IncomingMessage): number {
  const decoded = req.headers['x-amz-decoded-content-length'];
  const size = Number(typeof decoded === 'string' ? decoded : (req.headers['content-length'] ?? 0));
  return Number.isFinite(size) ? size : 0;
}

/** An HTTP server (not yet listening) answering every request with `services`. */
export function createCloudServer(services: CloudServices): Server {
  const handle = requestHandler(services);
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(answerInternalError(res));
  });
  // `Expect: 100-continue`: a PUT announcing more than the limit is answered EntityTooLarge
  // without inviting its body; anything else is invited at once (Node's default).
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(req.method === 'PUT' && announcedSize(req) > services.maxObjectSize)) res.writeContinue();
    handle(req, res).catch(answerInternalError(res));
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

/** Listens on host:port (0: any free port); the port bound, or the listen error. */
export function listen(
  server: Server,
  address: { readonly host: string; readonly port: number },
): Promise<number | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error);
    });
    server.listen(address.port, address.host, () => {
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : 0);
    });
  });
}

/** Stops accepting, drops open connections and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}
