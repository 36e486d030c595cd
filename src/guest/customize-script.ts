// The customize step as one POSIX sh script run as root inside the image, the same
// text for both ways of running it (chroot on the host as root, or virt-customize
// --run in libguestfs's appliance). Pure text generation, golden-tested.
import { INTERFACES } from './debootstrap-config.js';
import {
  SSH_HOST_KEY_TYPES,
  type CustomizeSpec,
  type GuestFile,
  type GuestUser,
  type RcLocalSpec,
  type SshHostKeyType,
} from './spec.js';
import { rcLocalScript } from './rc-local.js';
import { shellQuote } from '../core/shell-quote.js';

/** Where host files (customize.files[].source) are copied before the script runs. */
export const STAGE_DIR = '/var/tmp/emi-recipe-stage';

/** The staged copy of the input `files[<index>]`. */
export const stagedFile = (index: number): string => `${STAGE_DIR}/files-${index}`;

/** Where sshd finds a host key of `type`. */
const hostKeyPath = (type: SshHostKeyType): string => `/etc/ssh/ssh_host_${type}_key`;

/** Names the host keys sshd loads when the image makes fewer than all types. */
export const SSHD_HOST_KEYS_CONF = '/etc/ssh/sshd_config.d/emi-recipe-host-keys.conf';

/**
 * A unit that creates SSH host keys at first boot: images never ship host keys of their
 * own. All types: `ssh-keygen -A`; fewer: one `ssh-keygen -t` per type.
 */
export function sshHostKeysUnit(keyTypes: readonly SshHostKeyType[]): string {
  const all = SSH_HOST_KEY_TYPES.every((type) => keyTypes.includes(type));
  const exec = all
    ? ['ExecStart=/usr/bin/ssh-keygen -A']
    : keyTypes.map(
        (type) => `ExecStart=/usr/bin/ssh-keygen -q -t ${type} -N "" -f ${hostKeyPath(type)}`,
      );
  return `[Unit]
Description=Generate SSH host keys (emi-recipe)
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service sshd.service

[Service]
Type=oneshot
${exec.join('\n')}
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`;
}

/** Added to rc-local.service: run after the network is up, as Debian does, on every distribution. */
export const RC_LOCAL_DROP_IN = `[Unit]
Wants=network-online.target
After=network-online.target
`;

/** The packages the script installs: the recipe's, plus sudo when a user gets a sudo rule. */
export function packagesToInstall(params: CustomizeSpec): string[] {
  const packages = [...params.packages];
  if (
    params.users.some((u) => u.sudo !== false) &&
    !packages.some((p) => p.split('=')[0] === 'sudo')
  )
    packages.push('sudo');
  return packages;
}

/** Writes `content` to `path` exactly (no added newline), then sets mode and owner. */
function writeFile(path: string, content: string, mode: number, owner: string): string[] {
  return [
    `mkdir -p -- ${shellQuote(path.replace(/\/[^/]*$/, '') || '/')}`,
    `printf '%s' ${shellQuote(content)} >${shellQuote(path)}`,
    `chown -- ${shellQuote(owner)} ${shellQuote(path)}`,
    `chmod -- ${mode.toString(8).padStart(4, '0')} ${shellQuote(path)}`,
  ];
}

/**
 * The script. Order (guest/spec.ts CustomizeSpec): packages, users, files,
 * remove, rc.local, commands, then image hygiene (no SSH host keys, an empty
 * machine-id, no downloaded packages). `set -eu`: the first failing command stops
 * the step, and its output says which.
 */
export function customizeScript(params: CustomizeSpec): string {
  return [
    '#!/bin/sh',
    '# Written by emi-recipe: the customize step, run as root inside the image.',
    'set -eu',
    'export DEBIAN_FRONTEND=noninteractive LC_ALL=C',
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'say() { echo "emi-recipe: $*"; }',
    ...packageLines(packagesToInstall(params)),
    ...params.users.flatMap(userLines),
    ...params.files.flatMap(fileLines),
    ...removeLines(params.remove),
    ...(params.rcLocal ? rcLocalLines(params.rcLocal) : []),
    ...(params.portableNetwork === true ? portableNetworkLines() : []),
    ...params.commands.flatMap((command) => [
      '',
      `say ${shellQuote(`running: ${command}`)}`,
      `/bin/sh -c ${shellQuote(command)}`,
    ]),
    ...hygieneLines(params.sshHostKeyTypes),
    '',
  ].join('\n');
}

/** Installs with whichever package manager the image has; package names after `--`. */
function packageLines(packages: readonly string[]): string[] {
  if (packages.length === 0) return [];
  const list = packages.map(shellQuote).join(' ');
  return [
    '',
    `say ${shellQuote(`installing packages: ${packages.join(' ')}`)}`,
    'if command -v apt-get >/dev/null 2>&1; then',
    '  apt-get update -q',
    `  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -- ${list}`,
    'elif command -v dnf >/dev/null 2>&1; then',
    `  dnf install -y -- ${list}`,
    'elif command -v yum >/dev/null 2>&1; then',
    `  yum install -y -- ${list}`,
    'elif command -v zypper >/dev/null 2>&1; then',
    `  zypper --non-interactive install -- ${list}`,
    'else',
    '  say "no known package manager (apt-get, dnf, yum, zypper) in the image"',
    '  exit 1',
    'fi',
  ];
}

/** Creates (or updates) a user: groups, a locked password, sudo rule, authorized keys. */
function userLines(user: GuestUser): string[] {
  const name = shellQuote(user.name);
  const out = ['', `say ${shellQuote(`user ${user.name}`)}`];
  for (const group of user.groups)
    out.push(`getent group -- ${shellQuote(group)} >/dev/null || groupadd -- ${shellQuote(group)}`);
  const options = [
    `--shell ${shellQuote(user.shell)}`,
    ...(user.uid !== null ? [`--uid ${user.uid}`] : []),
    ...(user.comment !== null ? [`--comment ${shellQuote(user.comment)}`] : []),
  ];
  const groups = user.groups.length > 0 ? ` --groups ${shellQuote(user.groups.join(','))}` : '';
  out.push(
    `if getent passwd -- ${name} >/dev/null; then`,
    `  usermod ${options.join(' ')}${user.groups.length > 0 ? ` --append${groups}` : ''} -- ${name}`,
    'else',
    `  useradd --create-home ${options.join(' ')}${groups} -- ${name}`,
    'fi',
    `passwd -l -- ${name} >/dev/null`,
  );
  if (user.sudo !== false) {
    const rule = user.sudo === true ? 'ALL=(ALL) NOPASSWD:ALL' : user.sudo;
    const file = `/etc/sudoers.d/${user.name.replace(/\./g, '_')}`;
    out.push(...writeFile(file, `${user.name} ${rule}\n`, 0o440, 'root:root'));
    out.push(`if command -v visudo >/dev/null 2>&1; then visudo -cqf ${shellQuote(file)}; fi`);
  }
  if (user.sshAuthorizedKeys.length > 0) {
    out.push(
      `home=$(getent passwd -- ${name} | cut -d: -f6)`,
      `group=$(id -gn -- ${name})`,
      'mkdir -p "$home/.ssh"',
      `printf '%s\\n' ${user.sshAuthorizedKeys.map(shellQuote).join(' ')} >"$home/.ssh/authorized_keys"`,
      'chmod 700 "$home/.ssh"',
      'chmod 600 "$home/.ssh/authorized_keys"',
      `chown -R -- ${name}:"$group" "$home/.ssh"`,
    );
  }
  return out;
}

/** A file from the recipe's text, or copied from the staged input `files[index]`. */
function fileLines(file: GuestFile, index: number): string[] {
  const head = ['', `say ${shellQuote(`file ${file.path}`)}`];
  if (file.content !== null)
    return [...head, ...writeFile(file.path, file.content, file.mode, file.owner)];
  return [
    ...head,
    `mkdir -p -- ${shellQuote(file.path.replace(/\/[^/]*$/, '') || '/')}`,
    `cp -- ${shellQuote(stagedFile(index))} ${shellQuote(file.path)}`,
    `chown -- ${shellQuote(file.owner)} ${shellQuote(file.path)}`,
    `chmod -- ${file.mode.toString(8).padStart(4, '0')} ${shellQuote(file.path)}`,
  ];
}

/**
 * DHCP on the first Ethernet NIC whatever its name, in place of an ifupdown stanza for
 * one named NIC (an installer's); an image configured otherwise is left alone.
 */
function portableNetworkLines(): string[] {
  return [
    '',
    "if [ -f /etc/network/interfaces ] && grep -Eq '^[[:space:]]*(auto|allow-hotplug|iface)[[:space:]]+e[a-z0-9]+' /etc/network/interfaces; then",
    "  say 'network: DHCP on the first Ethernet NIC whatever its name, not only on the installer VM NIC'",
    ...writeFile('/etc/network/interfaces', INTERFACES, 0o644, 'root:root').map(
      (line) => `  ${line}`,
    ),
    'fi',
  ];
}

function removeLines(paths: readonly string[]): string[] {
  if (paths.length === 0) return [];
  return [
    '',
    ...paths.flatMap((path) => [
      `say ${shellQuote(`remove ${path}`)}`,
      `rm -rf -- ${shellQuote(path)}`,
    ]),
  ];
}

/** /etc/rc.local, executable, and started by systemd's rc-local.service where there is one. */
function rcLocalLines(rcLocal: RcLocalSpec): string[] {
  return [
    '',
    'say "rc.local"',
    ...writeFile('/etc/rc.local', rcLocalScript(rcLocal), 0o755, 'root:root'),
    // Red Hat keeps the real file in /etc/rc.d/rc.local behind a symlink: make that executable too.
    'chmod 0755 "$(readlink -f /etc/rc.local)"',
    'rc_unit=""',
    'for dir in /lib/systemd/system /usr/lib/systemd/system; do',
    '  if [ -f "$dir/rc-local.service" ]; then rc_unit="$dir/rc-local.service"; fi',
    'done',
    'if [ -n "$rc_unit" ]; then',
    '  mkdir -p /etc/systemd/system/multi-user.target.wants /etc/systemd/system/rc-local.service.d',
    '  ln -sf "$rc_unit" /etc/systemd/system/multi-user.target.wants/rc-local.service',
    ...writeFile(
      '/etc/systemd/system/rc-local.service.d/emi-recipe.conf',
      RC_LOCAL_DROP_IN,
      0o644,
      'root:root',
    ).map((l) => `  ${l}`),
    'fi',
  ];
}

/** Last: no SSH host keys (made at first boot), an empty machine-id, no package cache. */
function hygieneLines(keyTypes: readonly SshHostKeyType[]): string[] {
  const all = SSH_HOST_KEY_TYPES.every((type) => keyTypes.includes(type));
  return [
    '',
    'say "image hygiene: no SSH host keys (made at first boot), empty machine-id, no package cache"',
    'rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub',
    'if [ -d /etc/systemd/system ] && [ -e /usr/bin/ssh-keygen ]; then',
    ...writeFile(
      '/etc/systemd/system/emi-ssh-host-keys.service',
      sshHostKeysUnit(keyTypes),
      0o644,
      'root:root',
    ).map((l) => `  ${l}`),
    '  mkdir -p /etc/systemd/system/multi-user.target.wants',
    '  ln -sf /etc/systemd/system/emi-ssh-host-keys.service /etc/systemd/system/multi-user.target.wants/emi-ssh-host-keys.service',
    'fi',
    // sshd would try every default key file and complain of the missing ones.
    ...(all
      ? []
      : [
          'if [ -d /etc/ssh/sshd_config.d ]; then',
          ...writeFile(
            SSHD_HOST_KEYS_CONF,
            keyTypes.map((type) => `HostKey ${hostKeyPath(type)}\n`).join(''),
            0o644,
            'root:root',
          ).map((l) => `  ${l}`),
          'fi',
        ]),
    'if [ -f /etc/machine-id ]; then : >/etc/machine-id; fi',
    // Files written in a chroot carry no SELinux labels: have the first boot relabel (Red Hat family).
    "if [ -f /etc/selinux/config ] && ! grep -qs '^SELINUX=disabled' /etc/selinux/config; then touch /.autorelabel; fi",
    'if command -v apt-get >/dev/null 2>&1; then apt-get clean; fi',
    `rm -rf ${STAGE_DIR}`,
    'say "customize finished"',
  ];
}
