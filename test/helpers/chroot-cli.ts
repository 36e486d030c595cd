// The real CLI with the real customize step (chroot as root) on a tiny prebuilt root disk
// (tiny-root.ts) instead of debootstrap, the other steps test-only fakes: for tests that
// kill an apply in the middle of a real chroot. Config: EMI_FAKE_CONFIG=<json file> with
// FakeConfig's fields plus `tinyDisk`, the raw disk install-os hands on, or `realInstall`
// for the real install-os (debootstrap).
import { readFileSync } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { processTerminal } from '../../src/cli/output/terminal.js';
import { ok } from '../../src/core/result.js';
import type { BuiltinKinds, BuiltinStepKind } from '../../src/plan/step-params.js';
import { createDisk } from '../../src/steps/create-disk.js';
import { customize } from '../../src/steps/customize.js';
import { installOs } from '../../src/steps/install-os.js';
import { fakeKinds, type FakeConfig } from './fake-kinds.js';

const configPath = process.env.EMI_FAKE_CONFIG;
if (configPath === undefined) throw new Error('EMI_FAKE_CONFIG is not set');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as FakeConfig & {
  tinyDisk: string;
  realInstall?: boolean;
};

const tinyInstall: BuiltinStepKind<'install-os'> = {
  kind: 'install-os',
  tools: [],
  describe: () => ({ summary: 'copy the tiny root disk', commands: [], effects: [], notes: [] }),
  run: async (ctx) => {
    await copyFile(config.tinyDisk, join(ctx.outDir, 'disk.raw'));
    const { size } = await stat(config.tinyDisk);
    return ok({ artifacts: { disk: 'disk.raw' }, values: { format: 'raw', sizeBytes: size } });
  },
};

const fakes = fakeKinds(config);
const kinds: BuiltinKinds = {
  ...fakes,
  'create-disk': config.realInstall === true ? createDisk : fakes['create-disk'],
  'install-os': config.realInstall === true ? installOs : tinyInstall,
  customize,
};
const controller = new AbortController();
process.on('SIGINT', () => {
  controller.abort(new Error('interrupted'));
});
process.on('SIGTERM', () => {
  controller.abort(new Error('interrupted'));
});
const code = await runCli(process.argv.slice(2), {
  terminal: processTerminal(process.env),
  env: process.env,
  signal: controller.signal,
  kinds,
  probeAccel: () => Promise.resolve('tcg'),
  hostFacts: () => Promise.resolve({ accel: 'tcg', isRoot: true }),
});
process.exitCode = controller.signal.aborted && code !== 0 ? 130 : code;
