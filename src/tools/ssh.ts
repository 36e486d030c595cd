// ssh and ssh-keygen (openssh-client): a throw-away key pair for the boot test, and
// non-interactive logins to a guest on a forwarded loopback port, optionally sharing
// one authenticated connection (OpenSSH connection multiplexing).
import { formatCommand, type Exec } from './exec.js';
import type { Result } from '../core/result.js';
import type { ToolFailure } from '../core/failure.js';

/** argv of `ssh-keygen` making an ed25519 key pair without passphrase at `path` (+ .pub). */
export function keygenArgs(path: string, comment: string): string[] {
  return ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path];
}

/** Key exchanges the test offers, fastest for an emulated guest first; every OpenSSH since 5.7 has one. */
export const FAST_KEX = 'curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256';

export interface SshTarget {
  readonly user: string;
  readonly port: number;
  readonly keyPath: string;
  /** Seconds to wait for the TCP connection and the SSH handshake. */
  readonly connectTimeoutS: number;
  /** Connection sharing: the login is the master, later commands its clients. */
  readonly mux?: SshMux;
}

/**
 * OpenSSH connection multiplexing through the socket at `path`. The `master` logs in
 * (with the key, as any login) and then stays in the background for `persistS` seconds
 * after its last client, or until the guest goes away; a `client` runs its command over
 * the master's connection (no new key exchange and login, which cost an emulated sshd
 * a second or more each) and falls back to a connection of its own when there is none.
 */
export interface SshMux {
  readonly path: string;
  readonly role: 'master' | 'client';
  readonly persistS?: number;
}

/** The longest socket path ssh can bind (sun_path less the suffix ssh adds while creating it). */
const MAX_MUX_PATH = 80;

/**
 * The multiplexing socket's path in `dir`, or undefined when `dir` is too long for a
 * Unix socket (then each command logs in on its own).
 */
export function muxSocketPath(dir: string): string | undefined {
  const path = `${dir}/mux`;
  return path.length <= MAX_MUX_PATH ? path : undefined;
}

/** ControlPath's value: ssh expands `%` tokens in it, so a literal `%` is doubled. */
const controlPath = (path: string): string => `ControlPath=${path.replace(/%/g, '%%')}`;

function muxArgs(mux: SshMux | undefined): string[] {
  if (!mux) return [];
  const path = ['-o', controlPath(mux.path)];
  return mux.role === 'master'
    ? [...path, '-o', 'ControlMaster=yes', '-o', `ControlPersist=${String(mux.persistS ?? 60)}`]
    : [...path, '-o', 'ControlMaster=no'];
}

/** argv of `ssh -O exit`: tells the master on `path` to close its connection and end. */
export function muxExitArgs(target: SshTarget, path: string): string[] {
  return ['-o', controlPath(path), '-O', 'exit', '-l', target.user, '127.0.0.1'];
}

/**
 * argv of `ssh` running `command` on 127.0.0.1:port as `user`: key only, no prompts,
 * no host-key bookkeeping (a fresh test VM has a new host key every time).
 */
export function sshArgs(target: SshTarget, command: string): string[] {
  return [
    '-p',
    String(target.port),
    '-i',
    target.keyPath,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ConnectTimeout=${target.connectTimeoutS}`,
    // Classic elliptic-curve key exchange first: the post-quantum default (sntrup761)
    // costs the guest's sshd seconds under TCG and proves nothing more about the image.
    '-o',
    `KexAlgorithms=${FAST_KEX}`,
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    ...muxArgs(target.mux),
    // The user as -l's value, never inside the host word: a name that starts with '-'
    // cannot become an option (`-oProxyCommand=…@127.0.0.1` would run a host command).
    '-l',
    target.user,
    '127.0.0.1',
    '--',
    command,
  ];
}

/** Displayable command line of a guest command. */
export function sshCommandText(target: SshTarget, command: string): string {
  return formatCommand('ssh', sshArgs({ ...target, keyPath: '<test-key>' }, command));
}

/** Runs one command on the guest. */
export function runOnGuest(
  exec: Exec,
  target: SshTarget,
  command: string,
  options: {
    signal: AbortSignal;
    timeoutMs: number;
    onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  },
): Promise<Result<{ stdout: string; stderr: string }, ToolFailure>> {
  return exec('ssh', sshArgs(target, command), {
    signal: options.signal,
    timeoutMs: options.timeoutMs,
    killGraceMs: 1000,
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
}
