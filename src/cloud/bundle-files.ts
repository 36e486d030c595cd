// The local side of an upload: the manifest and its parts as files about to be sent, each
// a regular file itself, and the object key each one gets under the bundle prefix.
import { basename, dirname, join } from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { MANIFEST_MAX_BYTES, parseManifest } from '../bundle/manifest-read.js';
import {
  describeFileProblem,
  openRegularFile,
  readRegularFile,
  type RegularFileProblem,
} from '../bundle/regular-file.js';
import type { CloudFailure } from './aws-errors.js';

/** The object key of a bundle file under `prefix` (spec §3: PREFIX/ + basename). */
export function bundleKey(prefix: string, fileName: string): string {
  const clean = prefix.replace(/^\/+|\/+$/g, '');
  return clean === '' ? fileName : `${clean}/${fileName}`;
}

export interface LocalFile {
  readonly key: string;
  readonly path: string;
  readonly size: number;
}

export /** A bundle file that is missing, not a regular file or too large, as a local-file failure. */
function fileProblem(
  path: string,
  operation: string,
  endpoint: string,
  problem: RegularFileProblem,
): CloudFailure {
  return {
    reason: 'local-file',
    path,
    endpoint,
    service: 's3',
    operation,
    code: problem.problem === 'unreadable' ? problem.code : describeFileProblem(problem),
  };
}

/** What to upload: the manifest under bucket/prefix and the directory of its parts. */
export interface LocalBundleOptions {
  readonly manifestPath: string;
  readonly partsDir?: string;
  readonly prefix: string;
}

export /**
 * The manifest (parsed, at most MANIFEST_MAX_BYTES) and its parts as local files: each part
 * a regular file itself (not a link), checked before anything is sent.
 */
async function localBundle(
  options: LocalBundleOptions,
  endpoint: string,
): Promise<Result<{ parts: LocalFile[]; manifestFile: LocalFile }, CloudFailure>> {
  const manifestBytes = await readRegularFile(options.manifestPath, {
    maxBytes: MANIFEST_MAX_BYTES,
  });
  if (!manifestBytes.ok)
    return err(fileProblem(options.manifestPath, 'upload-bundle', endpoint, manifestBytes.error));
  const manifestText = manifestBytes.value.toString('latin1');
  const manifest = parseManifest(manifestText);
  if (!manifest.ok) {
    return err({
      reason: 'local-file',
      path: options.manifestPath,
      endpoint,
      service: 's3',
      operation: 'upload-bundle',
      code: 'InvalidManifest',
      cloudMessage: `${manifest.error.field}: ${manifest.error.problem}`,
    });
  }
  const partsDir = options.partsDir ?? dirname(options.manifestPath);
  const parts: LocalFile[] = [];
  for (const part of manifest.value.image.parts) {
    const path = join(partsDir, part.filename);
    const opened = await openRegularFile(path, { refuseLinks: true });
    if (!opened.ok) return err(fileProblem(path, 'upload-bundle', endpoint, opened.error));
    await opened.value.handle.close();
    parts.push({
      key: bundleKey(options.prefix, part.filename),
      path,
      size: opened.value.stats.size,
    });
  }
  const manifestFile: LocalFile = {
    key: bundleKey(options.prefix, basename(options.manifestPath)),
    path: options.manifestPath,
    size: Buffer.byteLength(manifestText, 'latin1'),
  };
  return ok({ parts, manifestFile });
}
