// Whether a path exists, without following a final symlink (a dangling link exists).

import { lstat } from 'node:fs/promises';

/** True when `path` names anything (file, directory, symlink — even a dangling one). */
export function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
