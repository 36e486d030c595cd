// The QEMU machine protocol, just enough to learn how a guest ended: QEMU connects to
// a unix socket we listen on (no start-up race), we enable capabilities and record
// SHUTDOWN events, whose `reason` tells a guest power-off from a reboot.
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

/** How the guest stopped, from QMP's SHUTDOWN event (QEMU ≥ 4.0 reports `reason`). */
export interface ShutdownEvent {
  /** True when the guest itself asked (power-off or reset), false for a host-side stop. */
  readonly guest: boolean;
  /** 'guest-shutdown' (ACPI power-off), 'guest-reset' (a reboot under -no-reboot), 'host-signal'… */
  readonly reason: string;
}

/** Parses one QMP line; returns the SHUTDOWN event it carries, or null. */
export function parseShutdownEvent(line: string): ShutdownEvent | null {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object') return null;
  const message = data as { event?: unknown; data?: { guest?: unknown; reason?: unknown } };
  if (message.event !== 'SHUTDOWN') return null;
  return {
    guest: message.data?.guest === true,
    reason: typeof message.data?.reason === 'string' ? message.data.reason : 'unknown',
  };
}

/** The QEMU arguments that make it connect to `socketPath` as its QMP monitor. */
export function qmpClientArgs(socketPath: string): string[] {
  return [
    '-chardev',
    `socket,id=emi-qmp,path=${socketPath}`,
    '-mon',
    'chardev=emi-qmp,mode=control',
  ];
}

/** A listening QMP endpoint for one VM. */
export interface QmpListener {
  /** SHUTDOWN events seen so far, in order. */
  readonly shutdowns: () => readonly ShutdownEvent[];
  /** True once QEMU connected. */
  readonly connected: () => boolean;
  /** Asks the guest to power off (ACPI), when connected. */
  readonly powerdown: () => void;
  readonly close: () => Promise<void>;
}

/** Listens on `socketPath` (which must not exist) for QEMU's monitor connection. */
export async function listenQmp(socketPath: string): Promise<QmpListener> {
  const events: ShutdownEvent[] = [];
  let socket: Socket | null = null;
  const server: Server = createServer((s) => {
    socket = s;
    s.write('{"execute":"qmp_capabilities"}\n');
    const lines = createInterface({ input: s, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const event = parseShutdownEvent(line);
      if (event) events.push(event);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    shutdowns: () => events,
    connected: () => socket !== null,
    powerdown: () => socket?.write('{"execute":"system_powerdown"}\n'),
    close: () =>
      new Promise<void>((resolve) => {
        socket?.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
