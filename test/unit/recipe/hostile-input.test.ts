// Hostile recipes: prototype keys, alias bombs, deep nesting, floods of values, huge
// files, bytes that are not UTF-8. Each is refused with a located message (never a
// throw), quickly, and nothing under a refused key reaches the model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { formatDiagnostics } from '../../../src/cli/output/diagnostic-printer.js';
import { loadRecipe, loadRecipeText, MAX_DIAGNOSTICS } from '../../../src/recipe/load-recipe.js';
import { parseRecipeText } from '../../../src/recipe/parse.js';
import { firstInvalidUtf8, MAX_RECIPE_BYTES } from '../../../src/recipe/recipe-bytes.js';
import { validateAgainstSchema } from '../../../src/recipe/schema.js';
import { MAX_ALIAS_VALUES, MAX_VALUES } from '../../../src/recipe/yaml-limits.js';

const HEAD = 'name: demo-image\ndisk: { size: 2G }\ninstall:\n  debootstrap: { suite: bookworm }\n';

function load(text: string) {
  return loadRecipeText('/recipes/demo/recipe.yaml', text, {
    env: {},
    strictInputs: false,
    fileExists: () => true,
  });
}

const errors = (loaded: ReturnType<typeof load>) =>
  loaded.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.location.range.start.line}:${d.location.range.start.column} ${d.message}`);

describe('prototype keys', () => {
  test('__proto__ under customize is refused at its line:col, and its files never load', () => {
    const loaded = load(
      `${HEAD}customize:\n  __proto__:\n    files: [{ path: /root/x, source: /etc/shadow }]\n`,
    );
    expect(loaded.recipe).toBeUndefined();
    expect(errors(loaded)).toEqual([
      '6:3 `customize`: key `__proto__` is not allowed (it names JavaScript object internals, never a recipe setting): remove it',
    ]);
  });

  test('mappings have no prototype, so nothing is inherited by any reader', () => {
    const parsed = parseRecipeText('r.yaml', `${HEAD}customize: { packages: [less] }\n`, {});
    const value = parsed.recipe?.value as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value.customize)).toBeNull();
    expect('toString' in (value.customize ?? {})).toBe(false);
  });

  test('constructor and prototype are refused at any depth; the rest is still checked', () => {
    const loaded = load(
      `${HEAD}constructor: 1\ncustomize:\n  users:\n    - name: ops\n      prototype: x\n  packages: [Bad]\n`,
    );
    expect(errors(loaded).map((e) => e.replace(/ \(.*$/, ''))).toEqual([
      '5:1 the recipe: key `constructor` is not allowed',
      '9:7 `customize.users[0]`: key `prototype` is not allowed',
      expect.stringMatching(
        /^10:14 `customize.packages\[0\]`: 'Bad' is not a valid Debian package/,
      ),
    ]);
  });

  test('an alias used as a key is read as its anchor, and refused like the key itself', () => {
    const loaded = load(
      `${HEAD}description: &k __proto__\ncustomize:\n  *k : { packages: [-y] }\n`,
    );
    expect(errors(loaded)).toEqual([
      '7:3 `customize`: key `__proto__` is not allowed (it names JavaScript object internals, never a recipe setting): remove it',
    ]);
  });

  test('the schema reads own members only, like normalize', () => {
    const inherited = Object.create({
      name: 'demo-image',
      disk: { size: '2G' },
      install: { debootstrap: { suite: 'bookworm' } },
    }) as object;
    const missing = validateAgainstSchema(inherited)
      .filter((e) => e.keyword === 'required')
      .map((e) => (e.params as { missingProperty: string }).missingProperty);
    expect(missing).toEqual(expect.arrayContaining(['name', 'disk', 'install']));
  });

  test('a package name that reads as an option is refused at its line:col', () => {
    const loaded = load(`${HEAD}customize:\n  packages: [less, --allow-unauthenticated]\n`);
    expect(errors(loaded)).toEqual([
      "6:20 `customize.packages[1]`: '--allow-unauthenticated' looks like a command-line option, not a package name: Debian package names start with a lower-case letter or digit",
    ]);
  });
});

describe('YAML resource limits', () => {
  test('an alias bomb (nine levels of nine) is refused in well under two seconds', () => {
    let text = `${HEAD}description: x\nx0: &a0 [lol]\n`;
    for (let i = 1; i <= 9; i += 1)
      text += `x${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]\n`;
    const started = process.cpuUsage(); // CPU time, not wall clock: a loaded machine is no bomb
    const loaded = load(text);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(2000);
    expect(errors(loaded)).toEqual([
      expect.stringMatching(/^8:\d+ `x3\[0]\[0]`: more than 100 aliases to expand/),
    ]);
  });

  test('aliases within the limits still work', () => {
    const loaded = load(
      `${HEAD}customize:\n  users:\n    - { name: a, groups: &g [adm, sudo] }\n    - { name: b, groups: *g }\n`,
    );
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.recipe?.customize.users[1]?.groups).toEqual(['adm', 'sudo']);
  });

  test('few aliases of a large value are refused by the count of values they add', () => {
    const big = Array.from({ length: 500 }, (_, i) => `p${i}`).join(', ');
    const uses = Array.from({ length: 30 }, () => '*big').join(', ');
    const loaded = load(`${HEAD}x: &big [${big}]\ny: [${uses}]\n`);
    expect(errors(loaded)).toEqual([
      expect.stringContaining(`aliases expand to more than ${MAX_ALIAS_VALUES} values`),
    ]);
  });

  test('an alias inside the value it names is refused, not expanded forever', () => {
    expect(errors(load(`${HEAD}customize: &c\n  commands: [*c]\n`))).toEqual([
      '6:14 `customize.commands[0]`: alias *c refers to a value that contains it',
    ]);
  });

  test.each([
    ['flow lists', (n: number) => `description: ${'['.repeat(n)}${']'.repeat(n)}\n`],
    ['compact block lists', (n: number) => `customize:\n  packages:\n    ${'- '.repeat(n)}x\n`],
    ['flow mappings', (n: number) => `description: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`],
  ])('nesting 4 000 deep (%s) is an error, not a stack overflow', (_name, make) => {
    const loaded = load(`${HEAD}${make(4_000)}`);
    expect(loaded.recipe).toBeUndefined();
    expect(errors(loaded)).toEqual([
      expect.stringContaining('YAML: mappings and lists nested more than 50 levels deep'),
    ]);
  });

  test('more values than a recipe needs are refused at the first one over', () => {
    const list = Array.from({ length: MAX_VALUES + 10 }, () => 'ab').join(', ');
    const loaded = load(`${HEAD}customize:\n  packages: [${list}]\n`);
    expect(errors(loaded)).toEqual([
      expect.stringMatching(/^6:\d+ YAML: more than 10000 keys and values/),
    ]);
  });

  test('a flood of bad values prints the first problems and counts the rest', () => {
    const list = Array.from({ length: MAX_DIAGNOSTICS + 50 }, (_, i) => `Bad${i}`).join(', ');
    const loaded = load(`${HEAD}customize:\n  packages: [${list}]\n`);
    expect(loaded.diagnostics).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(loaded.diagnostics.at(-1)?.message).toBe(
      '50 more problems from here on are not shown (50 errors): fix the ones above and run again',
    );
    // The one-line list is shown as a window around each column, not whole.
    const text = formatDiagnostics(loaded.diagnostics, {
      sources: new Map([
        ['/recipes/demo/recipe.yaml', `${HEAD}customize:\n  packages: [${list}]\n`],
      ]),
      color: false,
    });
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThan(300);
  });
});

describe('reading the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emi-hostile-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const options = { env: {}, strictInputs: false };

  test('a file over 1 MiB is a recipe error (exit 2), not read whole', async () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `${HEAD}description: "${'x'.repeat(MAX_RECIPE_BYTES)}"\n`);
    const loaded = await loadRecipe(file, options);
    if (!loaded.ok) throw new Error('unreadable');
    expect(loaded.value.recipe).toBeUndefined();
    expect(loaded.value.diagnostics.map((d) => d.message)).toEqual([
      expect.stringMatching(
        /^the recipe is larger than 1048576 bytes \(1 MiB\), the limit for a recipe; found 10486\d\d bytes/,
      ),
    ]);
  });

  test('a device that never ends is refused at the limit', async () => {
    const loaded = await loadRecipe('/dev/zero', options);
    if (!loaded.ok) throw new Error('unreadable');
    expect(loaded.value.diagnostics[0]?.message).toContain('found more than that');
  });

  test('a file of exactly 1 MiB is read', async () => {
    const file = join(dir, 'edge.yaml');
    const head = `${HEAD}description: "`;
    writeFileSync(file, `${head}${'x'.repeat(MAX_RECIPE_BYTES - head.length - 2)}"\n`);
    const loaded = await loadRecipe(file, options);
    if (!loaded.ok) throw new Error('unreadable');
    expect(loaded.value.diagnostics).toEqual([]);
  });

  test('bytes that are not UTF-8 are an error at their line and column', async () => {
    const file = join(dir, 'latin1.yaml');
    writeFileSync(file, Buffer.from(`${HEAD}description: "Caf\xe9"\n`, 'latin1'));
    const loaded = await loadRecipe(file, options);
    if (!loaded.ok) throw new Error('unreadable');
    expect(loaded.value.recipe).toBeUndefined();
    expect(
      loaded.value.diagnostics.map(
        (d) => `${d.location.range.start.line}:${d.location.range.start.column} ${d.message}`,
      ),
    ).toEqual([
      '5:18 not UTF-8: byte 0xe9 does not belong in UTF-8 text here; save the recipe as UTF-8',
    ]);
  });

  test.each([
    ['ASCII and a 4-byte character', [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62], undefined],
    ['a lone continuation byte', [0x61, 0x80], 1],
    ['an overlong encoding of /', [0xc0, 0xaf], 0],
    ['an encoded surrogate', [0x61, 0xed, 0xa0, 0x80], 1],
    ['a sequence cut short', [0x61, 0x62, 0xe2, 0x82], 2],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 0],
  ])('firstInvalidUtf8: %s', (_name, bytes, expected) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(expected);
  });
});
