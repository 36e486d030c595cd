// Reading the certificate and key files the bundle commands take (-c, -k, --ec2cert), with
// errno codes turned into words for messages. The content is never printed.
import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../../core/result.js';

export interface PemFile {
  readonly path: string;
  readonly text: string;
}

/** Reads a PEM file; the failure is the errno code (ENOENT, EACCES…). */
export async function readPem(path: string): Promise<Result<PemFile, string>> {
  try {
    return ok({ path, text: await readFile(path, 'utf8') });
  } catch (error) {
    return err((error as NodeJS.ErrnoException).code ?? String(error));
  }
}

/** An errno code as words for a message. */
export function codeText(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return code;
  }
}
