// The `store` section's cross-field check: its address parses as an S3 address (the
// schema only sees the s3:// scheme). Its lease is a duration, parsed in rules-sizes.ts.
// Part of rules.ts.
import { parseS3Url } from '../core/s3-url.js';
import type { Report, RuleContext } from './rule-context.js';

/** Reports a `store.url` that is not a usable S3 address, at its place. */
export function checkStore(context: RuleContext, report: Report): void {
  const url = context.raw.store?.url;
  if (url === undefined) return;
  const parsed = parseS3Url(url);
  if (!parsed.ok) report('error', ['store', 'url'], parsed.error);
}
