// The data extents of a sparse file via lseek(SEEK_DATA/SEEK_HOLE), which Node has no
// binding for: a few lines of Perl (perl-base is Essential on Debian and Ubuntu, so it is
// always there) print "start end" per data range. Pure argv builder + pure parser + one exec.
import type { ToolFailure } from '../core/failure.js';
import { err, ok, type Result } from '../core/result.js';
import type { Exec } from './exec.js';

/** A byte range [start, end) of a file that holds data; everything else reads as zeros. */
export interface DataExtent {
  readonly start: number;
  readonly end: number;
}

// Linux: SEEK_DATA = 3, SEEK_HOLE = 4 (<linux/fs.h>); Perl's sysseek passes whence through
// to lseek(2). ENXIO from SEEK_DATA means "no data at or after this offset" (lseek(2)).
// A file system without SEEK_DATA support reports the whole file as data (since Linux 3.1).
const SCRIPT = [
  'open(my $fh, "<", $ARGV[0]) or die "open: $!\\n";',
  'my $size = -s $fh; my $pos = 0;',
  'while ($pos < $size) {',
  '  my $d = sysseek($fh, $pos, 3);',
  '  if (!defined $d) { last if $!{ENXIO}; die "SEEK_DATA: $!\\n"; }',
  '  my $h = sysseek($fh, $d, 4);',
  '  die "SEEK_HOLE: $!\\n" unless defined $h;',
  '  print $d + 0, " ", $h + 0, "\\n"; $pos = $h + 0;',
  '}',
  'print "end $size\\n";',
].join('\n');

/** argv of `perl` listing the data extents of `path`. */
export function seekDataArgs(path: string): string[] {
  return ['-e', SCRIPT, '--', path];
}

/**
 * Parses the script's output: sorted, non-overlapping extents clipped to the file size
 * printed on the last line. Undefined when the output is malformed or truncated.
 */
export function parseDataExtents(
  stdout: string,
): { extents: DataExtent[]; size: number } | undefined {
  const lines = stdout.split('\n').filter((line) => line !== '');
  const last = lines.pop();
  const endMatch = last === undefined ? null : /^end (\d+)$/.exec(last);
  if (endMatch === null) return undefined;
  const size = Number(endMatch[1]);
  const extents: DataExtent[] = [];
  let previousEnd = 0;
  for (const line of lines) {
    const match = /^(\d+) (\d+)$/.exec(line);
    if (match === null) return undefined;
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), size);
    if (start < previousEnd || end < start) return undefined;
    if (end > start) extents.push({ start, end });
    previousEnd = end;
  }
  return { extents, size };
}

/** Why the extents could not be listed: the tool failed, or printed something unexpected. */
export type SeekDataFailure =
  ToolFailure | { readonly reason: 'unparsable-output'; readonly command: string };

/**
 * Lists the data extents of a regular file and its size at the time of listing. Holes
 * are whatever lies outside the extents. Never throws.
 */
export async function listDataExtents(
  path: string,
  options: { readonly exec: Exec; readonly signal: AbortSignal },
): Promise<Result<{ extents: DataExtent[]; size: number }, SeekDataFailure>> {
  const args = seekDataArgs(path);
  const result = await options.exec('perl', args, { signal: options.signal, timeoutMs: 60_000 });
  if (!result.ok) return result;
  const parsed = parseDataExtents(result.value.stdout);
  if (parsed === undefined)
    return err({ reason: 'unparsable-output', command: `perl -e … ${path}` });
  return ok(parsed);
}
