// Putting answer files where installers look, with the real xorriso: a NoCloud seed ISO
// (volume CIDATA, user-data + meta-data) for autoinstall, and /ks.cfg appended to an initrd
// for kickstart (the kernel unpacks concatenated archives; the appended one is gzip'd cpio).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from '@jest/globals';
import type { StepId, StepRunContext } from '../../../src/plan/step.js';
import type { IsoInstallParams } from '../../../src/plan/step-params.js';
import { injectAnswers } from '../../../src/steps/answer-inject.js';
import { cpioNewc } from '../../../src/guest/cpio-newc.js';
import { exec } from '../../../src/tools/exec.js';
import { coreShare } from '../../../src/core/core-share.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function ctx(dir: string): StepRunContext<IsoInstallParams> {
  return {
    signal: new AbortController().signal,
    log: () => undefined,
    progress: () => undefined,
    step: {
      id: 'install-os' as StepId,
      kind: 'install-os',
      needs: [],
      section: [],
      params: {} as IsoInstallParams,
      inputs: [],
    },
    workDir: dir,
    outDir: join(dir, 'out'),
    needs: new Map(),
    secrets: new Map(),
    exec,
    accel: () => Promise.resolve('tcg'),
    cores: coreShare(2),
  };
}

const layout = (answers: 'autoinstall' | 'kickstart') => ({
  kind: answers === 'autoinstall' ? ('ubuntu-live' as const) : ('redhat' as const),
  kernel: '/k',
  initrd: '/i',
  answers,
  description: '',
});

describe('answer injection', () => {
  test('autoinstall: a CIDATA seed ISO with user-data and meta-data', async () => {
    const dir = mkdtempSync('/tmp/emi-inject-');
    dirs.push(dir);
    const r = await injectAnswers(ctx(dir), {
      layout: layout('autoinstall'),
      answer: '#cloud-config\nautoinstall: {version: 1}\n',
      initrd: join(dir, 'initrd'),
      scratch: dir,
    });
    expect(r.ok).toBe(true);
    if (!r.ok || r.value === null) return;
    const pvd = execFileSync('xorriso', ['-indev', r.value, '-pvd_info'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(pvd).toMatch(/^Volume Id\s*:\s*CIDATA$/m);
    execFileSync(
      'xorriso',
      [
        '-osirrox',
        'on',
        '-indev',
        r.value,
        '-extract',
        '/user-data',
        join(dir, 'ud'),
        '-extract',
        '/meta-data',
        join(dir, 'md'),
      ],
      { stdio: 'ignore' },
    );
    expect(readFileSync(join(dir, 'ud'), 'utf8')).toBe(
      '#cloud-config\nautoinstall: {version: 1}\n',
    );
    expect(readFileSync(join(dir, 'md'), 'utf8')).toContain('instance-id: emi-recipe-install');
  });

  test('kickstart: /ks.cfg appended to the initrd after 4-byte padding', async () => {
    const dir = mkdtempSync('/tmp/emi-inject-');
    dirs.push(dir);
    const original = gzipSync(
      cpioNewc([{ name: 'init', mode: 0o100755, data: new TextEncoder().encode('#!/bin/sh\n') }]),
    );
    const initrd = join(dir, 'initrd');
    writeFileSync(initrd, original);
    const r = await injectAnswers(ctx(dir), {
      layout: layout('kickstart'),
      answer: 'text\npoweroff\n',
      initrd,
      scratch: dir,
    });
    expect(r).toEqual({ ok: true, value: null });
    const bytes = readFileSync(initrd);
    expect(bytes.subarray(0, original.length).equals(original)).toBe(true);
    const start = Math.ceil(original.length / 4) * 4;
    expect(bytes.subarray(original.length, start).every((b) => b === 0)).toBe(true);
    const appended = gunzipSync(bytes.subarray(start)).toString('latin1');
    expect(appended).toContain('ks.cfg\0');
    expect(appended).toContain('text\npoweroff\n');
    // cpio(1) reads the appended archive back.
    writeFileSync(join(dir, 'appended.cpio'), gunzipSync(bytes.subarray(start)));
    expect(
      execFileSync('cpio', ['-t', '--quiet', '-F', join(dir, 'appended.cpio')], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('ks.cfg');
  });
});
