// `cache prune --older-than`: a duration like Terraform's and Go's, with days. Pure; no
// AWS SDK here (cache.ts, the registration, imports it).
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/**
 * `--older-than`: a duration like Terraform's and Go's with days added, `30d`, `12h`,
 * `90m`, `1d12h`, `45s`; `0s` is now. Throws commander's InvalidArgumentError (exit 2,
 * naming the flag) for anything else.
 */
export function parseAge(value: string): number {
  const text = value.trim();
  if (!/^([0-9]+(d|h|m|s))+$/.test(text))
    throw new InvalidArgumentError(
      `expected a duration such as 30d, 12h, 90m or 1d12h (units d, h, m, s), got '${value}'`,
    );
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(d|h|m|s)/g))
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 0);
  if (!Number.isSafeInteger(total))
    throw new InvalidArgumentError(`'${value}' is too long a duration`);
  return total;
}
