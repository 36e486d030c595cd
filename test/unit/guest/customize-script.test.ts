// The customize script and rc.local, golden, from the debian-minimal recipe's params plus
// every other kind of change.
import { describe, expect, test } from '@jest/globals';
import type { CustomizeParams } from '../../../src/plan/step-params.js';
import { customizeScript, packagesToInstall } from '../../../src/guest/customize-script.js';
import { rcLocalScript, SSH_KEY_ERE } from '../../../src/guest/rc-local.js';
import { expectGolden } from '../../helpers/golden-text.js';

const debianMinimal: CustomizeParams = {
  packages: ['less'],
  users: [
    {
      name: 'debian',
      groups: ['sudo'],
      shell: '/bin/bash',
      sudo: true,
      sshAuthorizedKeys: [],
      uid: null,
      comment: null,
    },
  ],
  files: [],
  remove: ['/etc/udev/rules.d/70-persistent-net.rules'],
  rcLocal: {
    metadataSshKey: {
      user: 'debian',
      url: 'http://169.254.169.254/latest/meta-data/public-keys/0/openssh-key',
      timeoutMs: 60_000,
    },
    modules: [],
    lines: [],
  },
  commands: ['systemctl mask e2scrub_reap.service'],
  sshHostKeyTypes: ['ed25519'],
};

const everything: CustomizeParams = {
  packages: ['curl', 'mediawiki=1:1.39.5-1'],
  users: [
    {
      name: 'ops',
      groups: ['adm', 'wheel'],
      shell: '/bin/sh',
      sudo: 'ALL=(ALL) NOPASSWD:/usr/bin/apt-get',
      sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza ops@example'],
      uid: 1500,
      comment: "O'Brien",
    },
    {
      name: 'svc',
      groups: [],
      shell: '/usr/sbin/nologin',
      sudo: false,
      sshAuthorizedKeys: [],
      uid: null,
      comment: null,
    },
  ],
  files: [
    { path: '/etc/motd', content: "it's built\n", mode: 0o644, owner: 'root:root' },
    { path: '/opt/app/config.json', content: null, mode: 0o600, owner: 'ops:ops' },
  ],
  remove: ['/etc/udev/rules.d/70-persistent-net.rules', '/root/.bash_history'],
  rcLocal: {
    metadataSshKey: null,
    modules: ['acpiphp', 'virtio_balloon'],
    lines: ['depmod -a', 'echo "done" > /run/x'],
  },
  commands: ['systemctl enable apache2', 'echo $HOME | tee /tmp/h'],
  sshHostKeyTypes: ['rsa', 'ecdsa', 'ed25519'],
};

describe('customize script', () => {
  test('golden: debian-minimal', () => {
    expectGolden('customize/debian-minimal.sh', customizeScript(debianMinimal));
  });
  test('golden: every kind of change', () => {
    expectGolden('customize/everything.sh', customizeScript(everything));
  });
  test('host keys: all types is ssh-keygen -A and no sshd drop-in; fewer names each key', () => {
    const all = customizeScript(everything);
    expect(all).toContain('ExecStart=/usr/bin/ssh-keygen -A');
    expect(all).not.toContain('sshd_config.d');
    const some = customizeScript({ ...everything, sshHostKeyTypes: ['ecdsa', 'ed25519'] });
    expect(some).not.toContain('ssh-keygen -A');
    expect(some).toContain(
      'ExecStart=/usr/bin/ssh-keygen -q -t ecdsa -N "" -f /etc/ssh/ssh_host_ecdsa_key',
    );
    expect(some).toContain(
      'ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key',
    );
    expect(some).toContain('HostKey /etc/ssh/ssh_host_ecdsa_key');
    expect(some).toContain('HostKey /etc/ssh/ssh_host_ed25519_key');
    expect(some).not.toContain('ssh_host_rsa_key');
  });
  test('portableNetwork: an ifupdown stanza for one named NIC becomes DHCP on any NIC, after rc.local', () => {
    expect(customizeScript(everything)).not.toContain('/etc/network/interfaces');
    const s = customizeScript({ ...everything, portableNetwork: true });
    expect(s).toContain(
      "if [ -f /etc/network/interfaces ] && grep -Eq '^[[:space:]]*(auto|allow-hotplug|iface)[[:space:]]+e[a-z0-9]+' /etc/network/interfaces; then",
    );
    expect(s).toContain('auto /e*/1=nic');
    expect(s.indexOf('say "rc.local"')).toBeLessThan(s.indexOf('/etc/network/interfaces'));
    expect(s.indexOf('/etc/network/interfaces')).toBeLessThan(s.indexOf("say 'running: "));
  });
  test('sudo is installed when a user gets a rule, once', () => {
    expect(packagesToInstall(debianMinimal)).toEqual(['less', 'sudo']);
    expect(packagesToInstall({ ...debianMinimal, packages: ['sudo=1.9'] })).toEqual(['sudo=1.9']);
    expect(packagesToInstall({ ...debianMinimal, users: [] })).toEqual(['less']);
  });
  test('order: packages, users, files, remove, rc.local, commands, hygiene', () => {
    const s = customizeScript(everything);
    const at = (needle: string): number => s.indexOf(needle);
    expect(at('installing packages')).toBeLessThan(at("say 'user ops'"));
    expect(at("say 'user ops'")).toBeLessThan(at("say 'file /etc/motd'"));
    expect(at("say 'file /etc/motd'")).toBeLessThan(at("say 'remove /root/.bash_history'"));
    expect(at("say 'remove /root/.bash_history'")).toBeLessThan(at('say "rc.local"'));
    expect(at('say "rc.local"')).toBeLessThan(at("say 'running: systemctl enable apache2'"));
    expect(at("say 'running: systemctl enable apache2'")).toBeLessThan(at('image hygiene'));
  });
});

describe('names that look like options', () => {
  // Validation refuses them; the script must not depend on that alone.
  const hostile: CustomizeParams = {
    ...everything,
    packages: ['-o=APT::Get::AllowUnauthenticated=1'],
    users: [{ ...everything.users[1]!, name: '-x', groups: ['--help'] }],
    files: [{ path: '-f', content: 'x', mode: 0o644, owner: '-R' }],
  };
  const script = customizeScript(hostile);

  test('package names come after --, for every package manager', () => {
    for (const line of script
      .split('\n')
      .filter((l) => /(apt-get|dnf|yum|zypper.*) install/.test(l)))
      expect(line).toMatch(/ -- '?-o=APT/);
  });

  test('user and group names, owners and paths come after --', () => {
    const lines = script.split('\n').map((l) => l.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        'getent group -- --help >/dev/null || groupadd -- --help',
        'if getent passwd -- -x >/dev/null; then',
        'usermod --shell /usr/sbin/nologin --append --groups --help -- -x',
        'useradd --create-home --shell /usr/sbin/nologin --groups --help -- -x',
        'passwd -l -- -x >/dev/null',
        'chown -- -R -f',
        'chmod -- 0644 -f',
      ]),
    );
  });
});

describe('rc.local', () => {
  test('golden: key fetch for a user', () => {
    expectGolden('customize/rc.local', rcLocalScript(debianMinimal.rcLocal!));
  });
  test('golden: modules and lines, no key', () => {
    expectGolden('customize/rc.local-modules', rcLocalScript(everything.rcLocal!));
  });
  test('the key pattern accepts SSH public keys only', () => {
    const re = new RegExp(SSH_KEY_ERE);
    expect(re.test('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF user@host')).toBe(true);
    expect(re.test('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==')).toBe(true);
    expect(re.test('ecdsa-sha2-nistp256 AAAAE2VjZHNh')).toBe(true);
    expect(re.test('<html><body>404</body></html>')).toBe(false);
    expect(re.test('ssh-ed25519')).toBe(false);
    expect(re.test('command="rm -rf /" ssh-rsa AAAA')).toBe(false);
  });
});
