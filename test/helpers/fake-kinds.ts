// Test-only step kinds for the engine: one fake per kind of the default graph. Each
// writes a deterministic artifact derived from its params and its upstream artifacts,
// slowly when asked (so that kills land mid-step), and journals its start and end.
// register-image is "run once": like a real cloud it remembers registrations in an
// external registry file and re-uses one for the same manifest, never making two.
// Fakes go through the same typed table and binding as the real kinds (kindTable,
// bindByKindName for graphs of made-up kinds): no casts.
import {
  appendFileSync,
  existsSync,
  openSync,
  closeSync,
  fsyncSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/core/hash.js';
import { err, ok } from '../../src/core/result.js';
import { CANCELED, stepFailure } from '../../src/plan/step-failure.js';
import { bindKind, bindSteps } from '../../src/plan/bind-kind.js';
import type {
  JsonValue,
  StepKind,
  StepKinds,
  StepRunContext,
  StepSpec,
} from '../../src/plan/step.js';
import type { BuiltinKind, BuiltinKinds, BuiltinStepKind } from '../../src/plan/step-params.js';

/** How the fakes behave; read from the JSON file named by EMI_FAKE_CONFIG in spawned CLIs. */
export interface FakeConfig {
  /** Append-only journal of "start <id>" / "end <id>" lines with timestamps. */
  readonly journal: string;
  /** The fake cloud's registrations: one JSON line per image registered. */
  readonly registry: string;
  /** Milliseconds each step takes, by step id (default `defaultDelayMs`). */
  readonly delayMs?: Readonly<Record<string, number>>;
  readonly defaultDelayMs?: number;
  /** Steps that fail. */
  readonly fail?: readonly string[];
  /**
   * Steps that throw once their artifact is half written: 'type-error' a bug (a TypeError),
   * 'enospc' a full disk (an ENOSPC error naming the artifact's path).
   */
  readonly throws?: Readonly<Record<string, 'type-error' | 'enospc'>>;
  /**
   * A barrier: each of these steps, once started, waits until all of them have started
   * (read from the journal) and fails if that does not happen within `timeoutMs`. Proves
   * that steps run at the same time without guessing durations.
   */
  readonly barrier?: { readonly ids: readonly string[]; readonly timeoutMs: number };
  /** Extra sparse artifact of this many bytes, by step id (benchmarks: large artifacts). */
  readonly artifactBytes?: Readonly<Record<string, number>>;
  /** Tools each kind claims to run (their versions enter fingerprints). */
  readonly tools?: Readonly<Record<string, readonly string[]>>;
}

export const FAKE_KINDS: readonly BuiltinKind[] = [
  'create-disk',
  'install-os',
  'customize',
  'extract-kernel',
  'extract-ramdisk',
  'extract-rootfs',
  'make-bootable',
  'extract-disk',
  'bundle-image',
  'bundle-parts',
  'bundle-manifest',
  'upload-bundle',
  'register-image',
  'boot-test',
];

/** A table of every built-in kind, each made by `make`: a missing kind does not compile. */
export function kindTable(
  make: <K extends BuiltinKind>(kind: K) => BuiltinStepKind<K>,
): BuiltinKinds {
  return {
    'create-disk': make('create-disk'),
    'install-os': make('install-os'),
    customize: make('customize'),
    'extract-kernel': make('extract-kernel'),
    'extract-ramdisk': make('extract-ramdisk'),
    'extract-rootfs': make('extract-rootfs'),
    'make-bootable': make('make-bootable'),
    'extract-disk': make('extract-disk'),
    'bundle-image': make('bundle-image'),
    'bundle-parts': make('bundle-parts'),
    'bundle-manifest': make('bundle-manifest'),
    'upload-bundle': make('upload-bundle'),
    'register-image': make('register-image'),
    'boot-test': make('boot-test'),
  };
}

/** Each step bound to the kind of its `kind`'s name in `kinds` (kinds of any JSON params). */
export function bindByKindName(
  steps: readonly StepSpec[],
  kinds: ReadonlyMap<string, StepKind>,
): StepKinds {
  return bindSteps(steps, (step) => {
    const kind = kinds.get(step.kind);
    return kind && bindKind(kind, step);
  });
}

/** The image type a register or bundle step's params name ('machine' when they name none). */
function imageTypeOf(params: JsonValue): 'kernel' | 'ramdisk' | 'machine' {
  const type: unknown =
    typeof params === 'object' && params !== null ? Reflect.get(params, 'imageType') : undefined;
  return type === 'kernel' || type === 'ramdisk' ? type : 'machine';
}

function journal(config: FakeConfig, line: string): void {
  const fd = openSync(config.journal, 'a');
  writeSync(fd, `${Date.now()} ${process.pid} ${line}\n`);
  fsyncSync(fd);
  closeSync(fd);
}

const sleep = (ms: number, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** The digest a fake step's output has: a function of its id, params and upstream artifacts. */
async function outputDigest<P>(ctx: StepRunContext<P>): Promise<string> {
  const hash = createHash('sha256').update(ctx.step.id).update(canonicalJson(ctx.step.params));
  for (const input of ctx.step.inputs) hash.update(await readFile(input.path));
  for (const [id, outputs] of [...ctx.needs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(id);
    // Large sparse benchmark artifacts are not read: out.txt already depends on everything.
    // A registration reads its needs' values only, like the real one (register-image.ts):
    // a fresh runner whose only pending step is a registration has none of their files.
    for (const file of Object.values(outputs.artifacts).sort()) {
      if (file === 'out.txt' && ctx.step.kind !== 'register-image')
        hash.update(await readFile(join(outputs.dir, file)));
    }
    hash.update(canonicalJson(outputs.values));
  }
  return hash.digest('hex');
}

function fakeKind<K extends BuiltinKind>(kind: K, config: FakeConfig): BuiltinStepKind<K> {
  return {
    kind,
    tools: config.tools?.[kind] ?? [],
    describe: (step) => ({
      summary: `fake ${kind}`,
      commands: [`fake-${kind} ${step.id}`],
      effects:
        kind === 'register-image'
          ? [
              {
                kind: 'register',
                imageType: imageTypeOf(step.params),
                name: step.id,
                endpoint: 'fake',
              },
            ]
          : [],
      notes: [],
    }),
    ...(kind === 'register-image'
      ? {
          // Like the real one: is the image still in the (fake) cloud?
          verify: (_step: unknown, values: Readonly<Record<string, unknown>>) => {
            const registered =
              existsSync(config.registry) &&
              readFileSync(config.registry, 'utf8').includes(
                `"imageId":"${String(values.imageId)}"`,
              );
            return Promise.resolve(
              registered ? undefined : `${String(values.imageId)} is no longer registered`,
            );
          },
        }
      : {}),
    run: async (ctx) => {
      const id = ctx.step.id;
      journal(config, `start ${id}`);
      if (config.barrier?.ids.includes(id) === true) {
        const { ids, timeoutMs } = config.barrier;
        const started = (): boolean => {
          const text = readFileSync(config.journal, 'utf8');
          return ids.every((other) => text.includes(` start ${other}\n`));
        };
        const until = Date.now() + timeoutMs;
        while (!started()) {
          if (Date.now() > until || !(await sleep(10, ctx.signal)))
            return err(
              stepFailure(
                'guest',
                'fake-failure',
                `${id}: not all of ${ids.join(', ')} started within ${timeoutMs} ms`,
                { command: `fake-${kind} ${id}`, exitCode: 4, outputTail: [] },
              ),
            );
        }
      }
      ctx.log(`fake ${kind} running`);
      const digest = await outputDigest(ctx);
      const total = config.delayMs?.[id] ?? config.defaultDelayMs ?? 0;
      // Write the artifact in pieces, so that a kill can land in the middle of it.
      const pieces = 4;
      const file = join(ctx.outDir, 'out.txt');
      for (let i = 0; i < pieces; i += 1) {
        appendFileSync(file, `${digest} piece ${i}\n`);
        ctx.progress({ done: i + 1, total: pieces, unit: 'items' });
        if (!(await sleep(total / pieces, ctx.signal))) return err(CANCELED);
      }
      const thrown = config.throws?.[id];
      if (thrown === 'type-error') {
        journal(config, `throw ${id}`);
        // A real bug, not a staged message: a param read that the types wrongly promise.
        const params = ctx.step.params as unknown as { readonly none: { readonly field: string } };
        return ok({ artifacts: { out: 'out.txt' }, values: { x: params.none.field } });
      }
      if (thrown === 'enospc') {
        journal(config, `throw ${id}`);
        throw Object.assign(new Error(`ENOSPC: no space left on device, write`), {
          code: 'ENOSPC',
          syscall: 'write',
          path: file,
        });
      }
      if (config.fail?.includes(id)) {
        journal(config, `fail ${id}`);
        return err(
          stepFailure('guest', 'fake-failure', `${id} failed as the test asked`, {
            command: `fake-${kind} ${id}`,
            exitCode: 3,
            outputTail: ['line one', 'last line'],
          }),
        );
      }
      const values: Record<string, string> = { digest };
      if (kind === 'register-image')
        values.imageId = register(config, digest, imageTypeOf(ctx.step.params));
      const artifacts: Record<string, string> = { out: 'out.txt' };
      const big = config.artifactBytes?.[id];
      if (big !== undefined) {
        const handle = await open(join(ctx.outDir, 'big.img'), 'w');
        await handle.truncate(big);
        await handle.close();
        artifacts.big = 'big.img';
      }
      journal(config, `end ${id}`);
      return ok({ artifacts, values });
    },
  };
}

/** Registers `key` once in the fake cloud; returns the image id (re-used on repeat). */
function register(config: FakeConfig, key: string, imageType: string): string {
  const prefix = imageType === 'kernel' ? 'eki' : imageType === 'ramdisk' ? 'eri' : 'emi';
  if (existsSync(config.registry)) {
    for (const line of readFileSync(config.registry, 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as { key: string; imageId: string };
      if (entry.key === key) return entry.imageId;
    }
  }
  const imageId = `${prefix}-${key.slice(0, 8)}`;
  const fd = openSync(config.registry, 'a');
  writeSync(fd, `${JSON.stringify({ key, imageId })}\n`);
  fsyncSync(fd);
  closeSync(fd);
  return imageId;
}

/** The fake kinds, one for each built-in kind. */
export function fakeKinds(config: FakeConfig): BuiltinKinds {
  return kindTable((kind) => fakeKind(kind, config));
}
