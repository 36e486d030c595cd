// The real CLI wired with the test-only step kinds (fake-kinds.ts), for engine tests
// that spawn it as a process (kill, lock, Ctrl-C). Config: EMI_FAKE_CONFIG=<json file>.
import { readFileSync } from 'node:fs';
import { runCli } from '../../src/cli/main.js';
import { processTerminal } from '../../src/cli/output/terminal.js';
import { fakeKinds, type FakeConfig } from './fake-kinds.js';

const configPath = process.env.EMI_FAKE_CONFIG;
if (configPath === undefined) throw new Error('EMI_FAKE_CONFIG is not set');
const config = JSON.parse(readFileSync(configPath, 'utf8')) as FakeConfig;
const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  controller.abort(new Error('interrupted'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const code = await runCli(process.argv.slice(2), {
  terminal: processTerminal(process.env),
  env: process.env,
  signal: controller.signal,
  kinds: fakeKinds(config),
  probeAccel: () => Promise.resolve('tcg'),
  hostFacts: () => Promise.resolve({ accel: 'tcg', isRoot: false }),
});
process.exitCode = controller.signal.aborted && code !== 0 ? 130 : code;
