// What the generated answer files are made from: install params only (never customize,
// so that customisation changes never re-run the install).
import type { InstallerMirror } from './installer-mirror.js';

/** The facts every generator uses. */
export interface AnswerOptions {
  readonly locale: string;
  readonly timezone: string;
  /** 0: no swap partition. */
  readonly swapBytes: number;
  /** The disk the installer sees (virtio: /dev/vda). */
  readonly disk: string;
  /** The archive mirror (from the host's apt sources); null: the installer's own default. */
  readonly mirror: InstallerMirror | null;
}

/** The install settings the answer files are made from (a subset of the install params). */
export interface AnswerSettings {
  readonly locale: string;
  readonly timezone: string;
  readonly swapBytes: number;
}

export function answerOptions(p: AnswerSettings, mirror: InstallerMirror | null): AnswerOptions {
  return {
    locale: p.locale,
    timezone: p.timezone,
    swapBytes: p.swapBytes,
    disk: '/dev/vda',
    mirror,
  };
}

/** The locale's country, upper case ("de_DE.UTF-8" -> "DE"); "US" for C, POSIX and bare languages. */
export function countryFor(locale: string): string {
  return /^[a-z]{2,3}_([A-Z]{2})/.exec(locale)?.[1] ?? 'US';
}

/** Whole MiB, at least 1, for installers that size partitions in MiB/MB. */
export const mib = (bytes: number): number => Math.max(1, Math.ceil(bytes / 2 ** 20));

/** The keyboard layout for a locale's country ("de_DE.UTF-8" -> "de"); "us" by default. */
export function keymapFor(locale: string): string {
  const country = countryFor(locale).toLowerCase();
  const known: Record<string, string> = {
    us: 'us',
    gb: 'gb',
    de: 'de',
    fr: 'fr',
    es: 'es',
    it: 'it',
    ch: 'ch',
    be: 'be',
    jp: 'jp',
    br: 'br',
    pt: 'pt',
    se: 'se',
    no: 'no',
    dk: 'dk',
    fi: 'fi',
    nl: 'us',
    ca: 'us',
    au: 'us',
  };
  return known[country] ?? 'us';
}
