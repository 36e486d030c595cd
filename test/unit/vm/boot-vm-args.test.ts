// The boot test's VM: the registered boot files as they are (the root disk a snapshot),
// and only test-side speed-ups around them; the installer VM keeps its own CPU.
import { describe, expect, test } from '@jest/globals';
import { bootTestVmArgs, KEY_INSTALLED_LINE, testCpus } from '../../../src/vm/boot-vm.js';
import { rcLocalScript } from '../../../src/guest/rc-local.js';
import { vmArgs } from '../../../src/tools/qemu.js';

const vm = {
  memoryBytes: 512 * 2 ** 20,
  cpus: 1,
  kernel: '/a/vmlinuz',
  initrd: '/a/initrd.img',
  rootfs: '/a/root,fs.img',
  metadataPort: 8080,
  sshPort: 2222,
};
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('boot-test VM', () => {
  test('boots the exact files, the disk a throw-away snapshot, entropy from the host', () => {
    const args = bootTestVmArgs({ ...vm, accel: 'tcg' });
    expect(after(args, '-kernel')).toBe('/a/vmlinuz');
    expect(after(args, '-initrd')).toBe('/a/initrd.img');
    expect(args).toContain('file=/a/root,,fs.img,format=raw,if=virtio,snapshot=on');
    expect(args).toContain('virtio-rng-pci');
    expect(after(args, '-append')).toBe('root=/dev/vda console=ttyS0 mitigations=off');
    expect(after(args, '-netdev')).toContain(
      'guestfwd=tcp:169.254.169.254:80-tcp:127.0.0.1:8080,hostfwd=tcp:127.0.0.1:2222-:22',
    );
  });

  test('an hvm disk boots through SeaBIOS: no -kernel, -initrd or -append; same network and snapshot', () => {
    const { kernel: _k, initrd: _i, rootfs: _r, ...rest } = vm;
    const args = bootTestVmArgs({ ...rest, disk: '/a/disk,1.img', accel: 'tcg' });
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-initrd');
    expect(args).not.toContain('-append');
    expect(args).toContain('file=/a/disk,,1.img,format=raw,if=virtio,snapshot=on');
    expect(after(args, '-netdev')).toContain(
      'guestfwd=tcp:169.254.169.254:80-tcp:127.0.0.1:8080,hostfwd=tcp:127.0.0.1:2222-:22',
    );
    expect(after(args, '-serial')).toBe('stdio');
  });

  test('an x86-64-v2 CPU under TCG, the host CPU under KVM; the installer VM keeps -cpu max', () => {
    expect(after(bootTestVmArgs({ ...vm, accel: 'tcg' }), '-cpu')).toBe(
      'qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16',
    );
    expect(after(bootTestVmArgs({ ...vm, accel: 'kvm' }), '-cpu')).toBe('host');
    const installer = vmArgs({
      accel: 'tcg',
      memoryBytes: 2 ** 30,
      cpus: 2,
      kernel: 'k',
      initrd: 'i',
      append: 'a',
      drives: [],
      network: true,
    });
    expect(after(installer, '-cpu')).toBe('max');
  });

  test("the login is tried when rc.local's console line says the key is in", () => {
    const script = rcLocalScript({
      modules: [],
      lines: [],
      metadataSshKey: { user: 'debian', url: 'http://169.254.169.254/k', timeoutMs: 60_000 },
    });
    // The lines rc.local prints, with the user filled in as the guest's shell would.
    const printed = [...script.matchAll(/log "((?:installed SSH key|SSH key for)[^"]*)"/g)].map(
      (m) => `emi-recipe: ${m[1]!.replace('$key_user', 'debian')}`,
    );
    expect(printed).toHaveLength(2);
    for (const line of printed) expect(KEY_INSTALLED_LINE.test(`[   31.2] ${line}`)).toBe(true);
    expect(KEY_INSTALLED_LINE.test('emi-recipe: no SSH key from http://x within 60s')).toBe(false);
  });

  test('a vCPU per idle host core under TCG, never fewer than test.cpus; KVM as asked', () => {
    expect(testCpus(1, 'tcg', 2, 0.1)).toBe(2); // a quiet 2-core host
    expect(testCpus(1, 'tcg', 2, 1.5)).toBe(1);
    expect(testCpus(1, 'tcg', 2, 7)).toBe(1); // busy: one vCPU, as asked
    expect(testCpus(3, 'tcg', 2, 7)).toBe(3);
    expect(testCpus(1, 'tcg', 16, 0)).toBe(4);
    expect(testCpus(1, 'kvm', 16, 0)).toBe(1);
  });
});
