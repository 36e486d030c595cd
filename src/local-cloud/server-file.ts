// The `server.json` a running local cloud leaves in its data dir (pid, host, port), and
// whether the server it names is still there. No HTTP serving here (server.ts).
import { readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { writePrivateFile } from './private-files.js';

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

/** Records this process as the data dir's server (0600, atomically); returns the file's path. */
export async function writeServerFile(dataDir: string, address: ServerFile): Promise<string> {
  const path = join(dataDir, 'server.json');
  await writePrivateFile(path, JSON.stringify(address satisfies ServerFile));
  return path;
}

/** Forgets the record at `path` (already gone is fine). */
export async function removeServerFile(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
