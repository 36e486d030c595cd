// Temporary files to delete if the process exits before they are renamed or removed (a
// second Ctrl-C makes the CLI exit at once). One 'exit' listener for all; SIGKILL and power
// cuts still leave them, which is why they carry a `.tmp-PID-RANDOM` name. Only files this
// process created may be tracked: never a name that was already there.
import { unlinkSync } from 'node:fs';

const pending = new Set<string>();
let installed = false;

function removeAll(): void {
  for (const path of pending) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
  pending.clear();
}

/** Deletes `path` at process exit unless forgetTemporary(path) is called first. */
export function trackTemporary(path: string): void {
  if (!installed) {
    process.on('exit', removeAll);
    installed = true;
  }
  pending.add(path);
}

/** The file was renamed into place or removed: leave it alone at exit. */
export function forgetTemporary(path: string): void {
  pending.delete(path);
}
