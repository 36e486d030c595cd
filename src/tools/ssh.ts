// ssh and ssh-keygen (openssh-client): a throw-away key pair for the boot test, and
// non-interactive logins to a guest on a forwarded loopback port.
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
