// Installer progress from the serial console, on captured real ones: Debian 13's
// installer under GNU screen (test/fixtures/answers/d-i/console-screen.log and
// console-stream.log, a whole install up to software selection, both taken from the
// real-installer test's logs/install.log).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import {
  consoleRows,
  installerProgressReader,
  installerProgressStream,
  parseInstallerProgress,
} from '../../../src/guest/iso-layout.js';
import { repoPath } from '../../helpers/paths.js';

const lines = readFileSync(
  repoPath('test', 'fixtures', 'answers', 'd-i', 'console-screen.log'),
  'utf8',
).split('\n');

describe('installer progress on a real Debian installer console', () => {
  test('clean stage names with their last reading; screen status bar never shown', () => {
    const read = installerProgressReader();
    const readings = lines.map(read).filter((r) => r !== null);
    expect(readings).toEqual([
      { percent: 100, message: 'Detecting network hardware' },
      { percent: 0, message: 'Detecting link on ens2; please wait' },
      { percent: 100, message: 'Waiting for link-local address' },
      { percent: 100, message: 'Attempting IPv6 autoconfiguration' },
      { percent: 100, message: 'Attempting IPv6 autoconfiguration' },
      { percent: 100, message: 'Configuring the network with DHCP' },
      { percent: 100, message: 'Checking the Debian archive mirror' },
      // "Guided partitioning ... 20%", a screen repaint, then "... 40%... 60%... 80%".
      { percent: 80, message: 'Guided partitioning' },
      { percent: 33, message: 'Partitions formatting' },
    ]);
    for (const line of lines)
      for (const row of consoleRows(line)) {
        expect(row).not.toContain('*installer)');
        expect(row).not.toContain('\x1b');
      }
  });
  test("a stage that has just started reads 0%, not the previous stage's 100%", () => {
    const line =
      'Configuring the network with DHCP  ... 4%... 12%... 100%\x1b[H\x1b[7m[ (1*installer)  2 shell ][ Nov 30 11:15 ]\x1b[8;1H\x1b[0mInstalling the base system  ...';
    expect(parseInstallerProgress(line)).toEqual({
      percent: 0,
      message: 'Installing the base system',
    });
    expect(parseInstallerProgress(`${line} 5%... 10%`)).toEqual({
      percent: 10,
      message: 'Installing the base system',
    });
  });
  test('the status bar alone is no progress', () => {
    expect(parseInstallerProgress(lines[0] ?? '')).toBeNull();
  });
});

describe('installer progress as the console text arrives (chunks, not lines)', () => {
  const whole = readFileSync(
    repoPath('test', 'fixtures', 'answers', 'd-i', 'console-stream.log'),
    'utf8',
  );
  function readInChunks(size: number): { percent: number | null; message: string }[] {
    const read = installerProgressStream();
    const out = [];
    for (let i = 0; i < whole.length; i += size) out.push(...read(whole.slice(i, i + size)));
    return out;
  }
  const stages = [
    'Detecting network hardware',
    'Detecting link on ens2; please wait',
    'Waiting for link-local address',
    'Attempting IPv6 autoconfiguration',
    'Checking the Debian archive mirror',
    'Loading additional components',
    'Detecting disks and all other hardware',
    'Loading additional components',
    'Starting up the partitioner',
    'Guided partitioning',
    'Partitions formatting',
    'Installing the base system',
    'Configuring apt',
    'Select and install software',
  ];

  test.each([7, 50, 4096])('chunks of %i bytes: the stages in order, clean names', (size) => {
    const readings = readInChunks(size);
    const names = readings.map((r) => r.message).filter((m, i, all) => all[i - 1] !== m);
    expect(names).toEqual(stages);
    for (const r of readings) {
      // Kernel messages, screen's status bar and bare continuations are never a stage.
      expect(r.message).not.toMatch(/^\[\s*\d|^\.\.\.|\*installer\)/);
      expect(r.message).not.toContain('\x1b');
      expect(r.percent).not.toBeNull();
      expect(r.percent ?? -1).toBeLessThanOrEqual(100);
    }
  });

  test('a long stage reports its readings as they come, not 100% when it ends', () => {
    const base = readInChunks(50).filter((r) => r.message === 'Installing the base system');
    expect(base[0]?.percent).toBeLessThan(100);
    expect(new Set(base.map((r) => r.percent)).size).toBeGreaterThanOrEqual(5);
    expect(base.at(-1)?.percent).toBe(100);
    // Readings of one stage only grow between its first and its last.
    const percents = base.map((r) => r.percent ?? 0);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
  });

  test('a repaint that leaves a lone " 50%" on its own row continues the stage', () => {
    const read = installerProgressStream();
    read('Select and install software  ... 10%... 40%... \x1b[2;24r\x1b[24;1H\n');
    expect(read('\x1b[23;80H 50%\x1b[H')).toEqual([
      { percent: 50, message: 'Select and install software' },
    ]);
    expect(read('... 60%... 70%\n')).toEqual([
      { percent: 70, message: 'Select and install software' },
    ]);
  });
});
