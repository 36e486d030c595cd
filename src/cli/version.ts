// The package version, read from package.json at run time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package version, from package.json (same depth from src/ and dist/). */
export function packageVersion(): string {
  const path = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}
