// The installed CLI as a process: validate on the shipped recipes and a broken one.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { repoPath } from '../helpers/paths.js';
import { runBuiltCli } from '../helpers/run-cli.js';

describe('emi-recipe validate (process)', () => {
  test('accepts every shipped recipe and example', () => {
    const r = runBuiltCli([
      'validate',
      'recipes/debian-minimal.yaml',
      'recipes/ubuntu-mediawiki.yaml',
      'recipes/debian-minimal-hvm.yaml',
      'examples/eucalyptus-debian.yaml',
      'examples/debian-netinst-preseed.yaml',
      'examples/aws-instance-store.yaml',
    ]);
    expect(r.stderr).not.toContain('error:');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('recipes/debian-minimal.yaml: valid');
  });

  test('rejects a broken recipe with exit 2 and located messages', () => {
    const r = runBuiltCli(['validate', 'test/fixtures/recipes/broken/42-many-errors.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'test/fixtures/recipes/broken/42-many-errors.yaml:4:3: error: `disk`: unknown key `sise`; did you mean `size`?',
    );
    expect(r.stderr).toMatch(/10 errors; fix them and run validate again/);
  });

  test('an AWS recipe without hvm: exit 2, located at publish.cloud, saying to choose hvm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emi-validate-aws-'));
    const file = join(dir, 'aws.yaml');
    writeFileSync(
      file,
      readFileSync(repoPath('examples', 'aws-instance-store.yaml'), 'utf8').replace(
        /^image:\n {2}virtualization: hvm\n/m,
        '',
      ),
    );
    const r = runBuiltCli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /aws\.yaml:\d+:10: error: `publish\.cloud`: AWS cannot run paravirtual images .*choose hvm with `image: \{ virtualization: hvm \}`/,
    );
  });

  test('bad usage exits 2, --version exits 0', () => {
    expect(runBuiltCli(['validate']).code).toBe(2);
    expect(runBuiltCli(['--bogus']).code).toBe(2);
    const version = runBuiltCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
