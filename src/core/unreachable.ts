// Exhaustiveness guard for switches over unions (STYLE.md §3).

/**
 * Call in the `default` of a switch over a union: it only type-checks when every
 * member was handled. Reaching it at run time is a bug, so it throws.
 */
export function unreachable(value: never): never {
  throw new Error(`unreachable: unexpected value ${JSON.stringify(value)}`);
}
