// The answer file for an installer: generated from install params (never customize), or
// the recipe's own; and put where the installer looks: appended to the initrd as
// /preseed.cfg or /ks.cfg, or a NoCloud seed ISO (volume CIDATA) for autoinstall.
import { appendFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { err, ok, type Result } from '../core/result.js';
import type { StepFailure, StepRunContext } from '../plan/step.js';
import type { IsoInstallParams } from '../plan/step-params.js';
import { buildIsoArgs, runXorriso } from '../tools/xorriso.js';
import { answerOptions } from '../guest/answers/answer-options.js';
import type { InstallerMirror } from '../guest/answers/installer-mirror.js';
import { autoinstallUserData, NOCLOUD_META_DATA } from '../guest/answers/autoinstall.js';
import { kickstartFile } from '../guest/answers/kickstart.js';
import { preseedFile } from '../guest/answers/preseed.js';
import { cpioNewc, initrdPadding } from '../guest/cpio-newc.js';
import type { IsoLayout } from '../guest/iso-layout.js';
import { toolStepFailure } from '../plan/step-failure.js';

/**
 * The generated answer file for a flavour: install params, plus the archive mirror (from
 * the host's apt sources; only the preseed uses it).
 */
export function generatedAnswerFile(p: IsoInstallParams, mirror: InstallerMirror | null): string {
  const o = answerOptions(p, mirror);
  switch (p.answers) {
    case 'preseed':
      return preseedFile(o);
    case 'kickstart':
      return kickstartFile(o);
    case 'autoinstall':
      return autoinstallUserData(o);
  }
}

/**
 * Puts the answer file where the installer looks: appended to the initrd as
 * /preseed.cfg or /ks.cfg (rewrites `initrd`), or a NoCloud seed ISO (returns its path).
 */
export async function injectAnswers(
  ctx: StepRunContext<IsoInstallParams>,
  o: { layout: IsoLayout; answer: string; initrd: string; scratch: string },
): Promise<Result<string | null, StepFailure>> {
  if (o.layout.answers === 'autoinstall') {
    const seed = join(o.scratch, 'seed');
    await mkdir(seed);
    await writeFile(join(seed, 'user-data'), o.answer);
    await writeFile(join(seed, 'meta-data'), NOCLOUD_META_DATA);
    const out = join(o.scratch, 'seed.iso');
    const r = await runXorriso(ctx.exec, ctx, buildIsoArgs({ dir: seed, out, volumeId: 'CIDATA' }));
    return r.ok ? ok(out) : err(toolStepFailure(r.error, 'building the NoCloud seed ISO'));
  }
  const name = o.layout.answers === 'preseed' ? 'preseed.cfg' : 'ks.cfg';
  const archive = gzipSync(
    cpioNewc([{ name, mode: 0o100644, data: new TextEncoder().encode(o.answer) }]),
  );
  const size = (await stat(o.initrd)).size;
  await appendFile(o.initrd, initrdPadding(size));
  await appendFile(o.initrd, archive);
  ctx.log(`appended /${name} to the installer's initrd`);
  return ok(null);
}
