// Installer progress from the serial console, on a captured real one: Debian 13's
// installer under GNU screen (test/fixtures/answers/d-i/console-screen.log, taken from
// the real-installer test's logs/install.log).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import {
  consoleRows,
  installerProgressReader,
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
