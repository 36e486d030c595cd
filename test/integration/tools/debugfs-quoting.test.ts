// File names found in an image reach debugfs requests quoted: spaces, quotes, `;` and
// backslashes are copied out exactly, and names that cannot be quoted (a newline) are
// refused, with the real debugfs on an image made by mke2fs -d.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { quietTask } from '../../../src/core/task.js';
import { exec } from '../../../src/tools/exec.js';
import { dumpFile, listBoot } from '../../../src/steps/root-image.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';

const NAMES = ['a b', 'q"x', 'se;mi', 'back\\slash', 'x" "injected'];

describe('debugfs requests built from names in the image', () => {
  test('odd names are copied out exactly; a name with a newline is skipped and refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-debugfs-'));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'boot'), { recursive: true });
    for (const name of NAMES) writeFileSync(join(tree, 'boot', name), `content of ${name}\n`);
    // A newline in a name could end a request; it is never listed nor passed on.
    writeFileSync(join(tree, 'boot', 'evil\nname'), 'x');
    const image = join(dir, 'root.img');
    writeFileSync(image, '');
    execFileSync('truncate', ['-s', '8M', image]);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, image]);
    const out = join(dir, 'out dir "quoted"');
    mkdirSync(out);
    const ctx = { ...quietTask(), exec };

    const listed = await listBoot(ctx, image);
    expect(listed.ok ? [...listed.value].sort() : listed.error).toEqual([...NAMES].sort());

    for (const [i, name] of NAMES.entries()) {
      const r = await dumpFile(ctx, image, `/boot/${name}`, join(out, `f ${String(i)}`));
      expect(r).toEqual({ ok: true, value: undefined });
      expect(readFileSync(join(out, `f ${String(i)}`), 'utf8')).toBe(`content of ${name}\n`);
    }
    expect(readdirSync(out)).toHaveLength(NAMES.length);

    const refused = await dumpFile(ctx, image, '/boot/evil\nrdump / /tmp', join(out, 'evil'));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.reason).toBe('unsafe-file-name');
      expect(describeStepFailure(refused.error)).toContain('control character (U+000A)');
    }
    expect(readdirSync(out)).toHaveLength(NAMES.length);
  });
});
