// tools/exec.ts against real processes: exit codes, spawn errors, timeouts,
// cancellation of a whole process group, streamed lines and tails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { exec } from '../../../src/tools/exec.js';

const signal = () => new AbortController().signal;

/** True while `pid` exists and is not a zombie (containers may not reap orphans at once). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('exec', () => {
  test('returns stdout of a successful program', async () => {
    const r = await exec('sh', ['-c', 'echo one; echo two'], { signal: signal() });
    expect(r).toMatchObject({ ok: true, value: { stdout: 'one\ntwo\n' } });
  });

  test('streams lines and keeps tails on failure', async () => {
    const lines: string[] = [];
    const r = await exec(
      'sh',
      ['-c', 'for i in $(seq 1 30); do echo out$i; echo err$i >&2; done; exit 3'],
      {
        signal: signal(),
        onLine: (line) => lines.push(line),
      },
    );
    expect(lines).toHaveLength(60);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ reason: 'exit-non-zero', exitCode: 3, file: 'sh' });
    expect(r.error.stderrTail).toHaveLength(20);
    expect(r.error.stderrTail.at(-1)).toBe('err30');
    expect(r.error.command).toBe(
      "sh -c 'for i in $(seq 1 30); do echo out$i; echo err$i >&2; done; exit 3'",
    );
  });

  test('onText sees text before its line ends (an installer appending "... 10%" to a line)', async () => {
    const seen: string[] = [];
    const all: string[] = [];
    let lineDone = false;
    const r = await exec(
      'sh',
      [
        '-c',
        "printf 'Installing  ... 10%%'; sleep 0.5; printf '... 20%%\\n'; printf '\\303'; printf '\\251\\n'",
      ],
      {
        signal: signal(),
        onLine: () => {
          lineDone = true;
        },
        onText: (text) => {
          all.push(text);
          if (!lineDone) seen.push(text);
        },
      },
    );
    expect(r.ok).toBe(true);
    // The first reading arrived while the line was still open.
    expect(seen[0]).toBe('Installing  ... 10%');
    expect(r.ok && r.value.stdout).toBe('Installing  ... 10%... 20%\n\u00e9\n');
    // A character split across reads is decoded whole.
    expect(all.join('')).toBe('Installing  ... 10%... 20%\n\u00e9\n');
  });

  test('a missing program is a spawn error', async () => {
    const r = await exec('emi-recipe-no-such-tool', [], { signal: signal() });
    expect(r).toMatchObject({ ok: false, error: { reason: 'spawn-error', code: 'ENOENT' } });
  });

  test('a program that runs too long is stopped', async () => {
    const started = Date.now();
    const r = await exec('sleep', ['30'], { signal: signal(), timeoutMs: 300, killGraceMs: 500 });
    expect(r).toMatchObject({ ok: false, error: { reason: 'timeout', timeoutMs: 300 } });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('cancelling stops the whole process group', async () => {
    const controller = new AbortController();
    const pidFile = `/tmp/emi-exec-test-${process.pid}`;
    const pending = exec('sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`], {
      signal: controller.signal,
      group: true,
      killGraceMs: 500,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    const r = await pending;
    expect(r).toMatchObject({ ok: false, error: { reason: 'canceled' } });
    const child = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(isRunning(child)).toBe(false);
  });

  test('passes stdin input and LC_ALL=C', async () => {
    const r = await exec('sh', ['-c', 'cat; echo "$LC_ALL"'], {
      signal: signal(),
      input: 'hello\n',
    });
    expect(r).toMatchObject({ ok: true, value: { stdout: 'hello\nC\n' } });
  });

  test('stdin from chunks made as they are read, stdout to a sink or a file, bytes intact', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0xa5);
    const chunks = async function* () {
      for (let i = 0; i < 16; i += 1) yield await Promise.resolve(chunk);
    };
    const got: Buffer[] = [];
    const r = await exec('cat', [], {
      signal: signal(),
      input: chunks(),
      stdoutSink: async (c) => {
        got.push(c);
        await new Promise((resolve) => setImmediate(resolve)); // a slow writer
      },
    });
    expect(r.ok).toBe(true);
    expect(Buffer.concat(got).equals(Buffer.concat(Array.from({ length: 16 }, () => chunk)))).toBe(
      true,
    );
    const dir = mkdtempSync(join(tmpdir(), 'emi-exec-'));
    try {
      const out = join(dir, 'out');
      expect(
        (await exec('cat', [], { signal: signal(), input: chunks(), stdoutFile: out })).ok,
      ).toBe(true);
      expect(readFileSync(out).length).toBe(16 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('exec dieWithParent', () => {
  test('a program dies when emi-recipe is SIGKILLed (the default)', async () => {
    const { spawn } = await import('node:child_process');
    const { repoPath } = await import('../../helpers/paths.js');
    const pidFile = `/tmp/emi-exec-orphan-${process.pid}`;
    // A parent process that starts `sleep 120` the way steps start QEMU, then waits.
    const script = `
      import { exec } from ${JSON.stringify(repoPath('dist', 'tools', 'exec.js'))};
      import { writeFileSync } from 'node:fs';
      const run = exec('sh', ['-c', 'echo $$ > ${pidFile}; exec sleep 120'], { signal: new AbortController().signal });
      setInterval(() => {}, 1000);
      await run;`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    const started = Date.now();
    while (Date.now() - started < 10_000) {
      try {
        if (readFileSync(pidFile, 'utf8').trim() !== '') break;
      } catch {
        // not yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(child)).toBe(true);
    parent.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(isRunning(child)).toBe(false);
  });
});
