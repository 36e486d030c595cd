// This work directory's own identities of a step's files (`artifacts/<step>.identity.json`):
// with a shared store, the state's record names the stat of the machine that wrote it,
// so a file made or downloaded here is recognised by this memo (its stat here and the
// digest it was checked to have), never re-hashed and never taken for "modified".
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { sameStat, statIdentity } from './file-identity.js';
import { artifactsRoot } from './layout.js';
import type { ArtifactRecord, FileIdentity } from './state.js';

/** Where the memo of a step's files is kept (beside its directory, not in it). */
export function memoPath(workDir: string, stepId: string): string {
  return join(artifactsRoot(workDir), `${stepId}.identity.json`);
}

/** The memo (file name -> identity here); empty when absent or unreadable. */
export async function readMemo(
  workDir: string,
  stepId: string,
): Promise<Readonly<Record<string, FileIdentity>>> {
  try {
    const data: unknown = JSON.parse(await readFile(memoPath(workDir, stepId), 'utf8'));
    return data !== null && typeof data === 'object' && !Array.isArray(data)
      ? (data as Record<string, FileIdentity>)
      : {};
  } catch {
    return {}; // no memo: the record's stat is the only identity
  }
}

/** Adds the identities of `files` (names in the step's directory `dir`) to the memo. */
export async function rememberFiles(
  workDir: string,
  stepId: string,
  dir: string,
  files: readonly { readonly file: string; readonly sha256: string }[],
): Promise<void> {
  const memo: Record<string, FileIdentity> = { ...(await readMemo(workDir, stepId)) };
  for (const { file, sha256 } of files) {
    const id = await statIdentity(join(dir, file));
    if (id) memo[file] = { ...id, sha256 };
  }
  await writeFileAtomic(memoPath(workDir, stepId), `${JSON.stringify(memo)}\n`);
}

/** Whether the file at `path` is the recorded artifact by the memo (its stat here, its digest). */
export async function knownByMemo(
  memo: Readonly<Record<string, FileIdentity>>,
  path: string,
  artifact: ArtifactRecord,
): Promise<boolean> {
  const known = memo[artifact.file];
  if (known?.sha256 !== artifact.sha256) return false;
  const current = await statIdentity(path);
  return current !== undefined && sameStat(current, known);
}
