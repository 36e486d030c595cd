// The CLI in-process: usage, help, version, validate output and exit codes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../../../src/cli/main.js';
import { memoryTerminal } from '../../../src/cli/output/terminal.js';
import { repoPath } from '../../helpers/paths.js';

async function cli(args: string[], env: Record<string, string> = {}) {
  const terminal = memoryTerminal();
  const code = await runCli(args, { terminal, env, signal: new AbortController().signal });
  return { code, stdout: terminal.stdout(), stderr: terminal.stderr() };
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempRecipe(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'emi-cli-'));
  made.push(dir);
  const file = join(dir, 'recipe.yaml');
  writeFileSync(file, text);
  return file;
}

describe('emi-recipe', () => {
  test('--version prints the package version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('--help lists commands, examples and exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('validate');
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('Exit codes:');
  });

  test('validate --help has an example', async () => {
    const r = await cli(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('$ emi-recipe validate');
  });

  test('an unknown command is a usage error (2) with a suggestion', async () => {
    const r = await cli(['valdate', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Did you mean validate?');
  });

  test('a missing recipe file is exit 2 with the name', async () => {
    const r = await cli(['validate', '/nonexistent/recipe.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read recipe '/nonexistent/recipe.yaml': no such file");
  });

  test('valid recipes exit 0', async () => {
    const r = await cli(['validate', repoPath('recipes/debian-minimal.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('debian-minimal.yaml: valid');
  });

  test('an invalid recipe prints located errors and exits 2', async () => {
    const file = tempRecipe(
      'name: demo-image\ndisk: { size: 8 gigs }\ninstall: { debootstrap: { suite: bookworm } }\n',
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}:2:15: error: \`disk.size\`: expected a size such as 8G, 512MiB or 1073741824, got '8 gigs'`,
    );
    expect(r.stderr).toContain('  2 | disk: { size: 8 gigs }');
    expect(r.stderr).toContain('1 error; fix them and run validate again');
  });

  test('--json reports diagnostics with positions', async () => {
    const file = tempRecipe(
      'name: demo-image\ndisk: { size: 2G, colour: red }\ninstall: { debootstrap: { suite: bookworm } }\n',
    );
    const r = await cli(['validate', '--json', file]);
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as {
      valid: boolean;
      results: { diagnostics: unknown[] }[];
    };
    expect(report.valid).toBe(false);
    expect(report.results[0]?.diagnostics).toEqual([
      {
        severity: 'error',
        message: '`disk`: unknown key `colour`; expected one of: size, format',
        file,
        line: 2,
        column: 19,
        endLine: 2,
        endColumn: 25,
        path: 'disk.colour',
      },
    ]);
  });

  test('a dependency cycle made with ${steps…} placeholders is reported by validate', async () => {
    const file = tempRecipe(
      'name: demo-image\ndisk: { size: 2G }\ninstall: { debootstrap: { suite: bookworm } }\n' +
        'customize:\n  users: [{ name: demo }]\n  rcLocal: { metadataSshKey: { user: demo } }\n' +
        'test:\n  boot: true\n  commands: ["echo ${steps.register-machine.imageId}"]\n',
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}:9:20: error: dependency cycle: boot-test -> register-machine -> boot-test`,
    );
  });
});
