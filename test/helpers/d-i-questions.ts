// What the real Debian installer can ask, for the preseed coverage test: templates (name,
// type) and `db_input PRIORITY TEMPLATE` calls, read from the installer's netboot initrd
// (live, from the debian-installer-12-netboot-amd64 package) and from the records that
// test/installer/capture-d-i-questions took from the mirror's udebs (committed fixtures).
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One `db_input` call: the priority and template as written (may hold shell variables). */
export interface DiInput {
  readonly priority: string;
  readonly template: string;
  readonly component: string;
  /** file:line inside the component. */
  readonly where: string;
}

export interface DiQuestions {
  /** Template name -> debconf type (string, boolean, select, note, error, …). */
  readonly types: ReadonlyMap<string, string>;
  readonly inputs: readonly DiInput[];
  readonly components: readonly string[];
}

/** The netboot initrd the package installs. */
export const DI12_INITRD =
  '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz';

const DB_INPUT = /db_input\s+"?([^\s"]+)"?\s+"?([^\s|;"]+)"?/;

/** Records in the capture script's format: "C name", "T template type", "Q prio template where". */
export function parseCapture(text: string): DiQuestions {
  const types = new Map<string, string>();
  const inputs: DiInput[] = [];
  const components: string[] = [];
  let component = '';
  for (const line of text.split('\n')) {
    const [tag, a, b, c] = line.split(' ');
    if (tag === 'C' && a) {
      component = a;
      components.push(a);
    } else if (tag === 'T' && a && b) types.set(a, b);
    else if (tag === 'Q' && a && b && c)
      inputs.push({ priority: a, template: b, component, where: c });
  }
  return { types, inputs, components };
}

/** The files of a gzip'd newc cpio archive (regular files only). */
export function readCpio(gz: Uint8Array): Map<string, Buffer> {
  const data = gunzipSync(gz);
  const files = new Map<string, Buffer>();
  let at = 0;
  const hex = (offset: number): number =>
    parseInt(data.subarray(at + offset, at + offset + 8).toString('ascii'), 16);
  const align = (n: number): number => (n + 3) & ~3;
  while (at + 110 <= data.length) {
    const magic = data.subarray(at, at + 6).toString('ascii');
    if (magic !== '070701' && magic !== '070702') break;
    const mode = hex(14);
    const size = hex(54);
    const nameSize = hex(94);
    const name = data.subarray(at + 110, at + 110 + nameSize - 1).toString('utf8');
    if (name === 'TRAILER!!!') break;
    const start = align(at + 110 + nameSize);
    if ((mode & 0o170000) === 0o100000)
      files.set(name.replace(/^\.\//, ''), data.subarray(start, start + size));
    at = align(start + size);
  }
  return files;
}

/** The same records as the capture script, from the initrd's files. */
export function questionsInInitrd(path: string): DiQuestions {
  const files = readCpio(readFileSync(path));
  const types = new Map<string, string>();
  const inputs: DiInput[] = [];
  for (const [name, body] of files) {
    if (body.includes(0)) continue;
    const text = body.toString('utf8');
    if (name.endsWith('.templates')) {
      let template = '';
      for (const line of text.split('\n')) {
        if (line.startsWith('Template:')) template = line.slice(9).trim();
        else if (line.startsWith('Type:') && template) {
          types.set(template, line.slice(5).trim());
          template = '';
        }
      }
    }
    if (name === 'usr/share/debconf/confmodule') continue;
    text.split('\n').forEach((line, i) => {
      const m = DB_INPUT.exec(line);
      if (m?.[1] && m[2])
        inputs.push({
          priority: m[1],
          template: m[2],
          component: 'initrd',
          where: `${name}:${i + 1}`,
        });
    });
  }
  return { types, inputs, components: ['initrd'] };
}

/** Both sources merged: the live initrd replaces the capture's "initrd" component. */
export function mergeQuestions(live: DiQuestions, captured: DiQuestions): DiQuestions {
  const types = new Map([...captured.types, ...live.types]);
  const inputs = [...live.inputs, ...captured.inputs.filter((q) => q.component !== 'initrd')];
  return { types, inputs, components: [...new Set([...live.components, ...captured.components])] };
}

export const hasDi12Initrd = (): boolean => existsSync(DI12_INITRD);
