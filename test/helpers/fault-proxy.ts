// A fault-injecting TCP proxy on 127.0.0.1 for the upload tests: per connection it
// passes bytes through, drops the connection after N request bytes, answers the first
// request itself with an HTTP 500/503, stalls, or forwards slowly. Bounded: it only
// touches loopback and stops with close().
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Fault =
  | { readonly kind: 'pass' }
  /** Forward this many client bytes, then cut both sides (a connection dropped mid-body). */
  | { readonly kind: 'drop-after'; readonly bytes: number }
  /** Read one whole request, answer it with this status and S3 error code, close. */
  | { readonly kind: 'status'; readonly status: 500 | 503; readonly code: string }
  /** Accept and forward nothing for `ms`, then close (a hung server). */
  | { readonly kind: 'stall'; readonly ms: number }
  /** Forward client bytes in 64 KiB steps with a pause between (a slow link). */
  | { readonly kind: 'slow'; readonly pauseMs: number };

export interface FaultProxy {
  readonly port: number;
  /** How many connections got each fault kind. */
  readonly stats: Record<Fault['kind'], number>;
  close(): Promise<void>;
}

function statusResponse(status: number, code: string): string {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`;
  const reason = status === 503 ? 'Slow Down' : 'Internal Server Error';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Starts the proxy in front of 127.0.0.1:`targetPort`; `plan(n)` decides connection n's fault (n from 0). */
export async function startFaultProxy(
  targetPort: number,
  plan: (connection: number) => Fault,
): Promise<FaultProxy> {
  const stats: Record<Fault['kind'], number> = {
    pass: 0,
    'drop-after': 0,
    status: 0,
    stall: 0,
    slow: 0,
  };
  const sockets = new Set<Socket>();
  let count = 0;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const fault = plan(count);
    count += 1;
    stats[fault.kind] += 1;
    if (fault.kind === 'stall') {
      const timer = setTimeout(() => client.destroy(), fault.ms);
      client.on('close', () => {
        clearTimeout(timer);
      });
      client.resume();
      return;
    }
    if (fault.kind === 'status') {
      let buffered = Buffer.alloc(0);
      let need: number | undefined;
      client.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (need === undefined) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
          need = end + 4 + Number(length ?? '0');
        }
        if (buffered.length >= need) client.end(statusResponse(fault.status, fault.code));
      });
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    let forwarded = 0;
    client.on('data', (chunk: Buffer) => {
      if (fault.kind === 'drop-after' && forwarded + chunk.length > fault.bytes) {
        upstream.write(chunk.subarray(0, Math.max(0, fault.bytes - forwarded)));
        client.destroy();
        upstream.destroy();
        return;
      }
      forwarded += chunk.length;
      if (fault.kind === 'slow') {
        client.pause();
        upstream.write(chunk, () => {
          setTimeout(() => client.resume(), fault.pauseMs);
        });
        return;
      }
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  return {
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
