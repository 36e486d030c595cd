// Who takes a lock: the lock document's fields (id, operation, user@host, pid, CI job
// URL, version, created, expires), made here and read back with their types checked.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { LockHolder, LockRequest } from '../run/store.js';

/**
 * The URL of the CI job this process runs in, when the CI says: GitHub Actions
 * (GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID) or GitLab CI
 * (CI_JOB_URL). Undefined elsewhere.
 */
export function ciJobUrlOf(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  if (server && repo && run) return `${server}/${repo}/actions/runs/${run}`;
  const gitlab = env.CI_JOB_URL;
  return gitlab !== undefined && gitlab !== '' ? gitlab : undefined;
}

/** `user@host` of this process (`?` when the user has no name, as in some containers). */
function who(): string {
  let user = '?';
  try {
    user = userInfo().username;
  } catch {
    // userInfo() throws when the uid has no passwd entry (containers): keep '?'.
  }
  return `${user}@${hostname()}`;
}

/** A new holder for `request`, created at `now`, its lease ending `leaseMs` later. */
export function newHolder(request: LockRequest, now: number): LockHolder {
  return {
    id: randomUUID(),
    operation: request.operation,
    who: who(),
    pid: process.pid,
    ...(request.ciJobUrl !== undefined ? { ciJobUrl: request.ciJobUrl } : {}),
    version: request.version,
    created: new Date(now).toISOString(),
    expires: new Date(now + request.leaseMs).toISOString(),
  };
}

/** The holder in a lock object, or undefined when it is not one (then it counts as expired). */
export function parseHolder(text: string): LockHolder | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  const strings = ['id', 'operation', 'who', 'version', 'created'] as const;
  if (strings.some((k) => typeof d[k] !== 'string') || typeof d.pid !== 'number') return undefined;
  if (d.expires !== undefined && typeof d.expires !== 'string') return undefined;
  return data as LockHolder;
}

/** The holder in one phrase: `user@host (pid 12, since …, CI job URL)`. */
export function describeHolder(holder: LockHolder): string {
  const ci = holder.ciJobUrl !== undefined ? `, ${holder.ciJobUrl}` : '';
  const until = holder.expires !== undefined ? `, lease until ${holder.expires}` : '';
  return `${holder.who} (pid ${holder.pid}, ${holder.operation}, since ${holder.created}${until}${ci}; lock ID ${holder.id})`;
}
