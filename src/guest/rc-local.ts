// The /etc/rc.local that emi-recipe installs (customize.rcLocal): load modules, fetch
// the instance's SSH key from the metadata service and install it for a user, run the
// recipe's lines; everything logged to the console with an "emi-recipe:" prefix.
// Pure text generation; the script itself is POSIX sh (dash, bash, busybox ash).
import type { RcLocalSpec } from './spec.js';
import { shellQuote } from '../core/shell-quote.js';

export type RcLocalParams = RcLocalSpec;

/**
 * SSH public key lines accepted from the metadata service (key type, base64 blob,
 * optional comment), as an extended regular expression for grep -E.
 */
export const SSH_KEY_ERE =
  '^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/]+={0,3}( .*)?$';

/**
 * The rc.local text. `set -u` but not `-e`: a failing line is logged and the boot goes
 * on. The key fetch retries every 2 s until `timeoutMs` (DHCP may still be running),
 * with curl, wget or busybox wget, whichever the image has; a key already present in
 * authorized_keys is never added again, so reboots do not duplicate it.
 */
export function rcLocalScript(rc: RcLocalParams): string {
  const out: string[] = [
    '#!/bin/sh',
    '# /etc/rc.local, written by emi-recipe (customize.rcLocal). Runs once at the end of',
    '# every boot: loads modules, installs the SSH key from the metadata service, then',
    "# runs the recipe's lines. Messages go to the console, prefixed with emi-recipe:.",
    'set -u',
    'console=/dev/console',
    'log() {',
    '  if [ -w "$console" ]; then echo "emi-recipe: $*" >>"$console" 2>/dev/null || true; fi',
    '  if command -v logger >/dev/null 2>&1; then logger -t emi-recipe -- "$*" 2>/dev/null || true; fi',
    '}',
  ];
  if (rc.modules.length > 0) {
    out.push(
      '',
      `for module in ${rc.modules.map(shellQuote).join(' ')}; do`,
      '  if modprobe "$module" 2>/dev/null; then',
      '    log "loaded module $module"',
      '  else',
      '    log "could not load module $module (ignored)"',
      '  fi',
      'done',
    );
  }
  const key = rc.metadataSshKey;
  if (key) {
    out.push(
      '',
      `key_user=${shellQuote(key.user)}`,
      `key_url=${shellQuote(key.url)}`,
      `key_timeout=${Math.max(1, Math.ceil(key.timeoutMs / 1000))}`,
      `key_re=${shellQuote(SSH_KEY_ERE)}`,
      '',
      'fetch_key() {',
      '  if command -v curl >/dev/null 2>&1; then',
      '    curl -fsS --max-time 5 "$key_url"',
      '  elif command -v wget >/dev/null 2>&1; then',
      '    wget -q -T 5 -O - "$key_url"',
      '  elif command -v busybox >/dev/null 2>&1; then',
      '    busybox wget -q -T 5 -O - "$key_url"',
      '  else',
      '    log "no curl, wget or busybox to fetch the SSH key with"',
      '    return 2',
      '  fi',
      '}',
      '',
      'install_key() {',
      '  entry=$(getent passwd "$key_user") || { log "user $key_user does not exist; no SSH key installed"; return 1; }',
      '  home=$(echo "$entry" | cut -d: -f6)',
      '  group=$(id -gn "$key_user" 2>/dev/null) || group=$key_user',
      '  ssh_dir="$home/.ssh"',
      '  keys="$ssh_dir/authorized_keys"',
      '  mkdir -p "$ssh_dir" && chmod 700 "$ssh_dir" && chown "$key_user:$group" "$ssh_dir" || return 1',
      '  [ -f "$keys" ] || : >"$keys"',
      '  chmod 600 "$keys" && chown "$key_user:$group" "$keys" || return 1',
      "  printf '%s\\n' \"$1\" | tr -d '\\r' | while IFS= read -r line; do",
      '    [ -n "$line" ] || continue',
      '    if ! printf \'%s\\n\' "$line" | grep -Eq "$key_re"; then',
      '      log "ignored a line from $key_url that is not an SSH public key"',
      '    elif grep -qxF -- "$line" "$keys"; then',
      '      log "SSH key for $key_user already installed"',
      '    else',
      '      printf \'%s\\n\' "$line" >>"$keys"',
      '      log "installed SSH key for $key_user"',
      '    fi',
      '  done',
      '  if command -v restorecon >/dev/null 2>&1; then restorecon -R "$ssh_dir" 2>/dev/null || true; fi',
      '}',
      '',
      'deadline=$(( $(date +%s) + key_timeout ))',
      'key=""',
      'while :; do',
      '  if key=$(fetch_key 2>/dev/null) && [ -n "$key" ]; then break; fi',
      '  key=""',
      '  if [ "$(date +%s)" -ge "$deadline" ]; then break; fi',
      '  sleep 2',
      'done',
      'if [ -n "$key" ]; then',
      '  install_key "$key" || log "could not install the SSH key for $key_user"',
      'else',
      '  log "no SSH key from $key_url within ${key_timeout}s"',
      'fi',
    );
  }
  if (rc.lines.length > 0) {
    out.push('', "# The recipe's lines (customize.rcLocal.lines).");
    for (const line of rc.lines) out.push(`log ${shellQuote(`running: ${line}`)}`, line);
  }
  out.push('', 'exit 0', '');
  return out.join('\n');
}
