// Reading an ext image with the real debugfs, for assertions on built images.
import { execFileSync, spawnSync } from 'node:child_process';

/** Output of `debugfs -R REQUEST IMAGE` (stdout only). */
export function debugfs(image: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, image], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 2 ** 20,
  });
}

/** debugfs's stderr for a request (where "File not found" goes). */
export function debugfsErr(image: string, request: string): string {
  return spawnSync('debugfs', ['-R', request, image], { encoding: 'utf8' }).stderr;
}

/** The text of a file in the image. */
export const catFile = (image: string, path: string): string => debugfs(image, `cat ${path}`);

/** The mode bits of a path in the image (from `stat`), e.g. 0o755. */
export function modeOf(image: string, path: string): number | null {
  const match = /Mode:\s+(0?[0-7]+)/.exec(debugfs(image, `stat ${path}`));
  return match?.[1] ? parseInt(match[1], 8) & 0o7777 : null;
}

/** Whether a dpkg package is installed, from /var/lib/dpkg/status. */
export function dpkgInstalled(image: string, name: string): boolean {
  return catFile(image, '/var/lib/dpkg/status')
    .split('\n\n')
    .some(
      (stanza) =>
        new RegExp(`^Package: ${name}$`, 'm').test(stanza) &&
        /^Status: install ok installed$/m.test(stanza),
    );
}

/** `file -b` of a host file. */
export const fileType = (path: string): string =>
  execFileSync('file', ['-b', path], { encoding: 'utf8' }).trim();
