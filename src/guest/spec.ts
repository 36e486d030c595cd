// What the guest-image generators are given: the shapes of the image's architecture, the
// answer-file flavour, and the customisation (users, files, rc.local). Types only. The step
// params (plan/step-params.ts) reuse them, so a generator and its step agree by construction.

export type Arch = 'x86_64' | 'i386';

/** The answer-file flavour an installer takes. */
export type AnswerFlavour = 'preseed' | 'autoinstall' | 'kickstart';

/** A user the customize script creates. */
export type GuestUser = {
  readonly name: string;
  readonly groups: readonly string[];
  readonly shell: string;
  readonly sudo: boolean | string;
  readonly sshAuthorizedKeys: readonly string[];
  readonly uid: number | null;
  readonly comment: string | null;
};

/** A file the customize script writes. */
export type GuestFile = {
  readonly path: string;
  /** Text content, or null when the content comes from the input `files[<index>]`. */
  readonly content: string | null;
  readonly mode: number;
  readonly owner: string;
};

/** The /etc/rc.local emi-recipe installs. */
export type RcLocalSpec = {
  readonly metadataSshKey: {
    readonly user: string;
    readonly url: string;
    readonly timeoutMs: number;
  } | null;
  readonly modules: readonly string[];
  readonly lines: readonly string[];
};

/** The SSH host key types `ssh-keygen -A` makes. */
export const SSH_HOST_KEY_TYPES = ['rsa', 'ecdsa', 'ed25519'] as const;
export type SshHostKeyType = (typeof SSH_HOST_KEY_TYPES)[number];

/**
 * The customisation of an installed image. Order of application: packages, users, files,
 * remove, rc.local, commands.
 */
export type CustomizeSpec = {
  readonly packages: readonly string[];
  readonly users: readonly GuestUser[];
  readonly files: readonly GuestFile[];
  readonly remove: readonly string[];
  readonly rcLocal: RcLocalSpec | null;
  readonly commands: readonly string[];
  /** The host key types the image makes at its first boot (all three: `ssh-keygen -A`). */
  readonly sshHostKeyTypes: readonly SshHostKeyType[];
  /**
   * Rewrite an ifupdown configuration that names one Ethernet NIC (`iface ens2 inet dhcp`,
   * the installer VM's) to DHCP on the first Ethernet NIC whatever its name, as the
   * debootstrap path writes it: set for installs from an ISO, whose installer configured
   * the NIC of its own VM, which an instance's NIC need not match (ens2 there, ens3 here).
   */
  readonly portableNetwork?: boolean;
};
