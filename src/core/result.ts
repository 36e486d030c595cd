// The Result type: expected failures are values, never exceptions (STYLE.md §3).
// Must not import anything: every other folder depends on it.

/** Either a value or an error; narrow on `ok`. */
export type Result<T, E> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

/** A successful Result holding `value`. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** A failed Result holding `error`. */
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
