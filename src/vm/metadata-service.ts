// An emulated EC2/Eucalyptus instance metadata service for the boot test: answers the
// paths a guest asks at boot (public-keys/0/openssh-key, instance-id, local-ipv4,
// hostname, …) on a loopback port that QEMU forwards 169.254.169.254:80 to.
// Every request is reported, so the test can tell the guest really fetched its key.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InstanceMetadata {
  readonly instanceId: string;
  readonly imageId: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  readonly localIpv4: string;
  readonly publicIpv4: string;
  readonly hostname: string;
  /** The SSH public key line served at public-keys/0/openssh-key. */
  readonly openSshKey: string;
  readonly keyName: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly userData?: string;
}

/** The metadata tree: path (without /latest/meta-data/) -> content. Directories list their children. */
export function metadataTree(m: InstanceMetadata): Map<string, string> {
  const leaves: [string, string][] = [
    ['ami-id', m.imageId],
    ['ami-launch-index', '0'],
    ['ami-manifest-path', 'emi-recipe/boot-test.manifest.xml'],
    ['block-device-mapping/ami', 'sda1'],
    ['block-device-mapping/root', '/dev/sda1'],
    ['hostname', m.hostname],
    ['instance-id', m.instanceId],
    ['instance-type', m.instanceType],
    ['local-hostname', m.hostname],
    ['local-ipv4', m.localIpv4],
    ['placement/availability-zone', m.availabilityZone],
    ['public-hostname', m.hostname],
    ['public-ipv4', m.publicIpv4],
    ['public-keys/0/openssh-key', `${m.openSshKey.trim()}\n`],
    ['reservation-id', 'r-emirecipe'],
    ['security-groups', 'default'],
  ];
  if (m.kernelId !== undefined) leaves.push(['kernel-id', m.kernelId]);
  if (m.ramdiskId !== undefined) leaves.push(['ramdisk-id', m.ramdiskId]);
  const tree = new Map<string, string>(leaves);
  // Directory listings, as EC2 serves them: children one per line, sub-directories with a '/'.
  const dirs = new Map<string, Set<string>>();
  for (const [path] of leaves) {
    const parts = path.split('/');
    for (let i = 0; i < parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      const child = parts[i] ?? '';
      const entry = i < parts.length - 1 ? `${child}/` : child;
      const set = dirs.get(dir) ?? new Set<string>();
      set.add(entry);
      dirs.set(dir, set);
    }
  }
  for (const [dir, children] of dirs)
    tree.set(dir === '' ? '' : `${dir}/`, [...children].sort().join('\n'));
  // public-keys/ lists keys as "0=<name>", as EC2 does.
  tree.set('public-keys/', `0=${m.keyName}`);
  return tree;
}

export interface MetadataRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface RunningMetadataService {
  readonly port: number;
  readonly requests: readonly MetadataRequest[];
  close(): Promise<void>;
}

/**
 * Serves the metadata on 127.0.0.1 (an ephemeral port unless given). `onRequest` sees
 * every request (for the step's log).
 */
export async function startMetadataService(
  metadata: InstanceMetadata,
  options: { port?: number; onRequest?: (request: MetadataRequest) => void } = {},
): Promise<RunningMetadataService> {
  const tree = metadataTree(metadata);
  const requests: MetadataRequest[] = [];
  // QEMU's guestfwd connects once, when the VM starts, and carries every guest request
  // over that one connection: it must never be closed for idling. Node would close it
  // 60 s after the connect without a request (headersTimeout: an hvm guest going through
  // SeaBIOS and GRUB asks later than that) and 5 s after each answer (keepAliveTimeout).
  const server: Server = createServer(
    { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://169.254.169.254');
      let status = 404;
      let body = 'Not Found\n';
      if (req.method === 'PUT' && url.pathname === '/latest/api/token') {
        // IMDSv2 clients (cloud-init, newer curl scripts) ask for a token first.
        status = 200;
        body = 'emi-recipe-boot-test-token';
      } else if (req.method === 'GET' || req.method === 'HEAD') {
        if (url.pathname === '/' || url.pathname === '/latest' || url.pathname === '/latest/') {
          status = 200;
          body = 'meta-data/\nuser-data';
        } else if (url.pathname === '/latest/user-data') {
          if (metadata.userData !== undefined) {
            status = 200;
            body = metadata.userData;
          }
        } else if (url.pathname.startsWith('/latest/meta-data')) {
          const key = url.pathname.slice('/latest/meta-data/'.length);
          const found = tree.get(key) ?? (key.endsWith('/') ? undefined : tree.get(`${key}/`));
          if (found !== undefined) {
            status = 200;
            body = found;
          }
        }
      } else {
        status = 405;
        body = 'Method Not Allowed\n';
      }
      const request = { method: req.method ?? '?', path: url.pathname, status };
      requests.push(request);
      options.onRequest?.(request);
      res.writeHead(status, {
        'Content-Type': 'text/plain',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
