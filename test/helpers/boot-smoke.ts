// Boots an extracted kernel, initrd and root file system the way Eucalyptus does (direct
// kernel boot, root=/dev/vda, a throwaway snapshot) and collects the serial console until
// a pattern shows up or the time runs out.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface BootResult {
  readonly matched: boolean;
  readonly console: string;
  readonly ms: number;
}

export function bootUntil(options: {
  kernel: string;
  initrd: string;
  rootfs: string;
  until: RegExp;
  timeoutMs: number;
}): Promise<BootResult> {
  const started = Date.now();
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-accel',
      'tcg',
      '-cpu',
      'max',
      '-m',
      '1024',
      '-smp',
      '1',
      '-serial',
      'stdio',
      '-no-reboot',
      '-kernel',
      options.kernel,
      '-initrd',
      options.initrd,
      '-append',
      'root=/dev/vda console=ttyS0',
      '-drive',
      `file=${options.rootfs},format=raw,if=virtio,snapshot=on`,
      '-netdev',
      'user,id=n0',
      '-device',
      'virtio-net-pci,netdev=n0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  return new Promise((resolve) => {
    let done = false;
    const finish = (matched: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      qemu.kill('SIGKILL');
      resolve({ matched, console: text, ms: Date.now() - started });
    };
    const timer = setTimeout(() => {
      finish(false);
    }, options.timeoutMs);
    createInterface({ input: qemu.stdout }).on('line', (line) => {
      text += `${line}\n`;
      if (options.until.test(line)) finish(true);
    });
    qemu.on('exit', () => {
      finish(false);
    });
  });
}
