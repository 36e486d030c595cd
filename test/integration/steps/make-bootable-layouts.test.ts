// make-bootable refuses disks it cannot make bootable through BIOS, before copying anything,
// and says what to change: a GPT disk (sfdisk's, one ext4 partition at 1 MiB) and a file
// system on the whole disk (no partition table).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import type { StepId } from '../../../src/plan/step.js';
import { describeStepFailure } from '../../../src/plan/step-failure.js';
import { makeBootable } from '../../../src/steps/make-bootable.js';
import { StepHarness } from '../../helpers/step-harness.js';
import { mke2fsArgs } from '../../../src/tools/e2fs.js';
import { makeTinyTree } from '../../helpers/tiny-root.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'emi-make-bootable-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** make-bootable on `disk` (raw) as customize's output. */
async function makeBootableOn(name: string, disk: string) {
  const h = new StepHarness(join(dir, `work-${name}`));
  h.outputs.set('customize' as StepId, {
    artifacts: { disk: disk.split('/').pop()! },
    values: { format: 'raw', sizeBytes: statSync(disk).size },
    dir,
  });
  return h.run(makeBootable, {
    id: 'make-bootable' as StepId,
    kind: 'make-bootable',
    needs: ['customize' as StepId],
    section: ['image'],
    params: { bootLoader: 'grub-pc', kernel: 'newest' },
    inputs: [],
  });
}

(isRoot ? describe : describe.skip)('make-bootable: disk layouts it refuses', () => {
  const tree = join(dir, 'tree');
  makeTinyTree(tree);

  test('a GPT disk: refused with what to put in the answer file', async () => {
    const disk = join(dir, 'gpt.raw');
    execFileSync('truncate', ['-s', '64M', disk]);
    execFileSync('sfdisk', ['--quiet', disk], {
      input: 'label: gpt\nstart=2048, size=65536, type=L\n',
    });
    execFileSync(
      'mke2fs',
      mke2fsArgs({
        image: disk,
        fromDir: tree,
        offsetBytes: 2048 * 512,
        sizeBytes: 65536 * 512,
        label: 'gpt-root',
      }),
    );
    const r = await makeBootableOn('gpt', disk);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('not-mbr');
    const text = describeStepFailure(r.error);
    expect(text).toContain('but the disk has a GPT partition table');
    expect(text).toContain('d-i partman-partitioning/choose_label select msdos');
    expect(text).toContain('`ptable: msdos`');
  });

  test('a file system on the whole disk: refused, naming the missing partition table', async () => {
    const disk = join(dir, 'bare.raw');
    execFileSync('truncate', ['-s', '64M', disk]);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', tree, disk]);
    const r = await makeBootableOn('bare', disk);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('not-mbr');
    expect(describeStepFailure(r.error)).toContain('but the disk has no partition table');
  });
});
