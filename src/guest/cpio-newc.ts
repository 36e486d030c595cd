// A writer for cpio "newc" archives, the format of Linux initramfs images: how an answer
// file is appended to an installer's initrd (the kernel unpacks concatenated archives in
// order, so a later file wins). Pure bytes; no external cpio needed.

/** One archive member. Directories have no data; modes include the file type bits. */
export interface CpioEntry {
  readonly name: string;
  /** Full mode, e.g. 0o100644 (file), 0o040755 (directory), 0o120777 (symlink: data is the target). */
  readonly mode: number;
  readonly data?: Uint8Array;
  readonly uid?: number;
  readonly gid?: number;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;
const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

/** The archive: entries, then the TRAILER!!! record. mtimes are 0 so equal input gives equal bytes. */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const encoder = new TextEncoder();
  let size = 0;
  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    size += bytes.length;
  };
  const record = (entry: CpioEntry, ino: number): void => {
    const data = entry.data ?? new Uint8Array(0);
    const name = encoder.encode(`${entry.name}\0`);
    const header =
      '070701' +
      [
        ino,
        entry.mode,
        entry.uid ?? 0,
        entry.gid ?? 0,
        (entry.mode & 0o170000) === 0o040000 ? 2 : 1,
        0,
        data.length,
        0,
        0,
        0,
        0,
        name.length,
        0,
      ]
        .map(hex8)
        .join('');
    push(encoder.encode(header));
    push(name);
    push(new Uint8Array(pad4(110 + name.length)));
    push(data);
    push(new Uint8Array(pad4(data.length)));
  };
  entries.forEach((e, i) => {
    record(e, i + 1);
  });
  record({ name: 'TRAILER!!!', mode: 0 }, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Zero bytes that bring `length` to a multiple of 4: the kernel looks for the next archive there. */
export const initrdPadding = (length: number): Uint8Array => new Uint8Array(pad4(length));
