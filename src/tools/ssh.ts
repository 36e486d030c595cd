// ssh and ssh-keygen (openssh-client): a throw-away key pair for the boot test, and
// non-interactive logins to a guest on a forwarded loopback port.
import { formatCommand, type Exec } from './exec.js';
import type { Result } from '../core/result.js';
import type { ToolFailure } from '../core/failure.js';

/** argv of `ssh-keygen` making an ed25519 key pair without passphrase at `path` (+ .pub). */
export function keygenArgs(path: string, comment: string): string[] {
  return ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path];
}

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
