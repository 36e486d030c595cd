// An S3 address, `s3://bucket/prefix`, parsed once: its bucket and key prefix. Pure and
// domain-free (the recipe's rules check `store.url` with it; store/ reads keys below it).
import { err, ok, type Result } from './result.js';

export interface S3Url {
  /** As the user wrote it, without a trailing slash: `s3://bucket/prefix`. */
  readonly url: string;
  readonly bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  readonly prefix: string;
}

/** Bucket names as S3 accepts them (3-63 of a-z, 0-9, '.', '-'; letters or digits at the ends). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket[/prefix]`. Fails with what was expected when the scheme is not
 * s3://, the bucket name is not a valid S3 name, or the prefix has empty segments.
 */
export function parseS3Url(text: string): Result<S3Url, string> {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
  if (!match) return err(`expected an S3 address such as s3://my-bucket/emi-state, got '${text}'`);
  const bucket = match[1] ?? '';
  if (!BUCKET.test(bucket))
    return err(
      `'${bucket}' is not a valid S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-'), in '${text}'`,
    );
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  if (prefix.split('/').some((segment) => segment === '') && prefix !== '')
    return err(`the key prefix of '${text}' has an empty segment ('//'); write it without`);
  if (prefix.split('/').some((segment) => segment === '.' || segment === '..'))
    return err(`the key prefix of '${text}' has a '.' or '..' segment; write it without`);
  return ok({ url: prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`, bucket, prefix });
}
