// The customize script's portableNetwork block, run by the real sh on a copy of an
// interfaces file: the stanza Debian's installer writes for its VM's NIC (ens2) becomes
// DHCP on the first Ethernet NIC whatever its name; a pattern or a non-Ethernet config
// is left alone. (The real installer's image, then booted with another NIC name, is in
// npm run test:installer.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { customizeScript } from '../../../src/guest/customize-script.js';
import { INTERFACES } from '../../../src/guest/debootstrap-config.js';

const dir = mkdtempSync(join(tmpdir(), 'emi-portable-net-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The block of the generated script, pointed at `file` instead of /etc/network/interfaces. */
function block(file: string): string {
  const script = customizeScript({
    packages: [],
    users: [],
    files: [],
    remove: [],
    rcLocal: null,
    commands: [],
    sshHostKeyTypes: ['ed25519'],
    portableNetwork: true,
  });
  const start = script.indexOf('if [ -f /etc/network/interfaces ]');
  const end = script.indexOf('\nfi\n', start) + 4;
  // The file's path, not the `source /etc/network/interfaces.d/*` line of its content.
  return `set -eu\nsay() { echo "emi-recipe: $*"; }\n${script.slice(start, end)}`.replace(
    /\/etc\/network\/interfaces(?!\.d)/g,
    file,
  );
}

function run(content: string): { after: string; stdout: string } {
  const file = join(dir, `interfaces-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, content);
  const r = spawnSync('sh', ['-c', block(file)], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return { after: readFileSync(file, 'utf8'), stdout: r.stdout };
}

describe('portableNetwork on real ifupdown files', () => {
  test("Debian's installer's stanza for its VM's NIC becomes DHCP on any NIC", () => {
    const installed = [
      '# This file describes the network interfaces available on your system',
      'source /etc/network/interfaces.d/*',
      '',
      'auto lo',
      'iface lo inet loopback',
      '',
      '# The primary network interface',
      'allow-hotplug ens2',
      'iface ens2 inet dhcp',
      '',
    ].join('\n');
    const { after, stdout } = run(installed);
    expect(after).toBe(INTERFACES);
    expect(stdout).toContain('emi-recipe: network: DHCP on the first Ethernet NIC');
  });

  test.each([
    ['the pattern debootstrap writes', INTERFACES],
    ['loopback only', 'auto lo\niface lo inet loopback\n'],
    ['a wireless NIC', 'allow-hotplug wlp2s0\niface wlp2s0 inet dhcp\n'],
  ])('%s is left alone', (_name, content) => {
    const { after, stdout } = run(content);
    expect(after).toBe(content);
    expect(stdout).toBe('');
  });
});
