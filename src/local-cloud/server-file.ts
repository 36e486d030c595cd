// The `server.json` a running local cloud leaves in its data dir (pid, host, port), and
// whether the server it names is still there. No HTTP serving here (server.ts).
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

/** What server.json holds. */
export interface ServerFile {
  readonly pid: number;
  readonly port: number;
  readonly host: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when something accepts TCP connections on host:port (within 1 s). */
function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/**
 * The server recorded in the data dir, if it is still there: its process alive and its
 * port answering (a server.json left by a killed process, or a reused pid, is ignored).
 */
export async function runningServer(dataDir: string): Promise<ServerFile | undefined> {
  let info: ServerFile;
  try {
    info = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  if (!isAlive(info.pid)) return undefined;
  return (await isListening(info.host, info.port)) ? info : undefined;
}
