// S3's bucket naming rules, checked before a bucket is created (and before its name
// becomes a directory in the data dir).
// Rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html

/** Names this server keeps for itself (the Eucalyptus-style service paths). */
const RESERVED = new Set(['services']);

/**
 * Why `name` is not a valid S3 bucket name (general purpose buckets), or undefined when
 * it is: 3–63 characters of a-z 0-9 . -, beginning and ending with a letter or digit,
 * no two adjacent periods, not shaped like an IPv4 address, none of S3's reserved
 * prefixes (`xn--`, `sthree-`) or suffixes (`-s3alias`, `--ol-s3`), not `services`.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63)
    return `it has ${name.length} characters; a bucket name has 3 to 63`;
  const bad = /[^a-z0-9.-]/.exec(name);
  if (bad) return `'${bad[0]}' is not allowed; use lower-case letters, digits, '.' and '-'`;
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return 'it must begin and end with a letter or digit';
  if (name.includes('..')) return "it must not contain two adjacent periods ('..')";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'it must not be formatted as an IP address';
  if (name.startsWith('xn--') || name.startsWith('sthree-'))
    return "the prefixes 'xn--' and 'sthree-' are reserved";
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3'))
    return "the suffixes '-s3alias' and '--ol-s3' are reserved";
  if (RESERVED.has(name)) return `'${name}' is reserved for the local cloud's service paths`;
  return undefined;
}
