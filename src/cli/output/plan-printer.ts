// The plan as text for people (and pull-request comments): one line per step with its
// verdict and reason, the commands of steps that run, remote effects, a summary line.
import type { PlanDocument, PlanStepJson } from '../../plan/plan-document.js';
import type { RemoteEffect } from '../../plan/step.js';
import { formatSize } from '../../recipe/units.js';

const MARK: Record<string, string> = {
  'never-run': '+',
  interrupted: '+',
  changed: '~',
  'outputs-changed': '~',
  forced: '~',
  'upstream-changed': '^',
  'up-to-date': '=',
  'up-to-date-elsewhere': '=',
  restore: '<',
  blocked: '!',
};

const VERDICT_TEXT = { run: 'run', 'up-to-date': 'up to date', blocked: 'blocked' } as const;

export interface PlanPrintOptions {
  /** Show the commands of steps that will run (default true). */
  readonly commands: boolean;
  readonly color: boolean;
}

/** The whole plan as text, ending with the summary line. */
export function formatPlan(doc: PlanDocument, options: PlanPrintOptions): string {
  const paint = (code: string, text: string): string =>
    options.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  const width = Math.max(...doc.steps.map((s) => s.id.length), 4);
  const lines: string[] = [];
  lines.push(`Plan for ${doc.recipe.name} (${doc.recipe.path})`);
  lines.push(`Work directory: ${doc.workDir}`);
  if (doc.store !== undefined) {
    lines.push(`State: ${doc.store.url} (shared store)`);
    if (!doc.store.locking)
      lines.push(
        paint(
          '31',
          'Locking is OFF (--no-lock): apply takes no lock; only one runner may apply this recipe.',
        ),
      );
  }
  lines.push(`Accelerator for VMs: ${accelText(doc.host.accel)}`);
  lines.push('');
  for (const step of doc.steps) {
    const mark = MARK[step.cause] ?? '?';
    const verdict = (step.cause === 'restore' ? 'restore' : VERDICT_TEXT[step.verdict]).padEnd(10);
    const colour = step.verdict === 'run' ? '33' : step.verdict === 'blocked' ? '31' : '32';
    // An up-to-date step says why only when its files are elsewhere (a shared store).
    const reason =
      step.verdict === 'up-to-date' && step.cause !== 'up-to-date-elsewhere'
        ? ''
        : (step.reasons[0] ?? '');
    lines.push(
      `  ${paint(colour, mark)} ${step.id.padEnd(width)}  ${paint(colour, verdict)}  ${reason}`.trimEnd(),
    );
    for (const more of step.verdict === 'up-to-date' ? [] : step.reasons.slice(1))
      lines.push(`  ${' '.repeat(width + 16)}${more}`);
    if (step.download !== undefined)
      lines.push(
        `  ${' '.repeat(width + 16)}download ${formatSize(step.download.bytes)} from the step cache (${step.download.artifacts.map((a) => a.file).join(', ')}): ${step.download.readBy.join(', ')} ${step.download.readBy.length === 1 ? 'reads' : 'read'} them`,
      );
    if (step.verdict === 'run' && step.cause !== 'restore')
      lines.push(...details(step, width, options));
  }
  if (doc.effects.length > 0) {
    lines.push('');
    lines.push('Remote effects:');
    for (const effect of doc.effects) lines.push(`  ${effectText(effect)}`);
  }
  lines.push('');
  lines.push(summaryLine(doc));
  return `${lines.join('\n')}\n`;
}

function details(step: PlanStepJson, width: number, options: PlanPrintOptions): string[] {
  const indent = ' '.repeat(width + 6);
  const out: string[] = [];
  if (step.summary) out.push(`${indent}${step.summary}`);
  if (options.commands) for (const command of step.commands) out.push(`${indent}$ ${command}`);
  for (const note of step.notes) out.push(`${indent}note: ${note}`);
  return out;
}

function accelText(accel: 'kvm' | 'tcg' | 'unknown'): string {
  if (accel === 'kvm') return 'KVM (a probe boot succeeded)';
  if (accel === 'tcg') return 'TCG, software emulation (KVM did not work in a probe boot)';
  return 'not probed yet: KVM if a probe boot proves it works, else TCG (decided at apply)';
}

/** One remote effect for people. */
export function effectText(effect: RemoteEffect): string {
  switch (effect.kind) {
    case 'upload':
      return `upload    ${effect.bucket}/${effect.prefix}/  (${effect.endpoint})`;
    case 'register':
      return `register  ${effect.imageType} image '${effect.name}'  (${effect.endpoint})`;
    case 'deregister':
      return `deregister ${effect.imageId}  (${effect.endpoint})`;
    case 'delete-bundle':
      return `delete    ${effect.bucket}/${effect.prefix}/  (${effect.endpoint})`;
  }
}

/** "Plan: 4 to run, 5 up to date; will register: eki, eri, emi" */
export function summaryLine(doc: PlanDocument): string {
  const restore = doc.summary.restore ?? 0;
  const parts = [
    `${String(doc.summary.run)} to run${restore > 0 ? ` (${String(restore)} restored from the step cache)` : ''}`,
    `${String(doc.summary.upToDate)} up to date`,
  ];
  const download = doc.summary.download;
  if (download !== undefined && download.files > 0)
    parts.push(
      `download ${formatSize(download.bytes)} (${String(download.files)} ${download.files === 1 ? 'file' : 'files'})`,
    );
  if (doc.summary.blocked > 0) parts.push(`${doc.summary.blocked} blocked`);
  const register =
    doc.summary.register.length > 0 ? `; will register: ${doc.summary.register.join(', ')}` : '';
  return `Plan: ${parts.join(', ')}${register}`;
}
