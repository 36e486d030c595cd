// Sizes and durations are parsed once, by the rules: the numbers (defaults applied) are
// what the model is built from, and a bad value leaves no numbers at all.
import { describe, expect, test } from '@jest/globals';
import { parseRecipeText } from '../../../src/recipe/parse.js';
import { checkRules } from '../../../src/recipe/rules.js';
import { validateSchema } from '../../../src/recipe/validate.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function rulesOf(text: string) {
  const parsed = parseRecipeText('recipe.yaml', text, {});
  if (!parsed.recipe) throw new Error(JSON.stringify(parsed.diagnostics));
  const schema = validateSchema(parsed.recipe);
  const rules = checkRules({
    parsed: parsed.recipe,
    raw: schema.pruned,
    dir: '/recipes',
    env: {},
    strictInputs: false,
    fileExists: () => true,
  });
  const where = (d: { location: { range: { start: { line: number; column: number } } } }) =>
    `${String(d.location.range.start.line)}:${String(d.location.range.start.column)}`;
  return {
    sizes: rules.sizes,
    errors: [...schema.diagnostics, ...rules.diagnostics]
      .filter((d) => d.severity === 'error')
      .map((d) => `${where(d)} ${d.message}`),
  };
}

const ISO = `name: sizes-demo
disk: { size: 4G }
install:
  iso: { path: ./x.iso }
  answers: preseed
`;

describe('checkRules: sizes', () => {
  test('every size and duration comes back in bytes and ms', () => {
    const { sizes, errors } = rulesOf(`${ISO}  swap: 512MiB
  vm: { memory: 1536M, timeout: 1h30m }
customize:
  users: [{ name: demo }]
  rcLocal: { metadataSshKey: { user: demo, timeout: 90s } }
extract: { rootfsSize: 3GB }
bundle: { partSize: 5MiB }
test: { memory: 768M, timeout: 7m }
store: { url: 's3://state/ci', lease: 90s }
`);
    expect(errors).toEqual([]);
    expect(sizes).toEqual({
      diskBytes: 4 * GiB,
      swapBytes: 512 * MiB,
      installVm: { memoryBytes: 1536 * MiB, timeoutMs: 90 * 60_000 },
      rootfsBytes: 3e9,
      partSizeBytes: 5 * MiB,
      test: { memoryBytes: 768 * MiB, timeoutMs: 7 * 60_000 },
      metadataKeyTimeoutMs: 90_000,
      storeLeaseMs: 90_000,
    });
  });

  test('where the recipe is silent, the defaults apply (the root file system: the disk size)', () => {
    expect(rulesOf(ISO).sizes).toEqual({
      diskBytes: 4 * GiB,
      swapBytes: 0,
      installVm: { memoryBytes: GiB, timeoutMs: 60 * 60_000 },
      rootfsBytes: 4 * GiB,
      partSizeBytes: 10 * MiB,
      test: { memoryBytes: GiB, timeoutMs: 5 * 60_000 },
      metadataKeyTimeoutMs: 60_000,
      storeLeaseMs: 5 * 60_000,
    });
  });

  test.each([
    [
      'a size that is no whole number of bytes',
      'bundle: { partSize: 0.3K }\n',
      "6:21 `bundle.partSize`: expected a whole number of bytes, got '0.3K'",
    ],
    [
      'a size out of range',
      'test: { memory: 64M }\n',
      '6:17 `test.memory`: expected a size between 128 MiB and 1 TiB, got 64 MiB',
    ],
    [
      'a duration under a second',
      'test: { timeout: 500ms }\n',
      "6:18 `test.timeout`: expected a duration of at least 1s, got '500ms'",
    ],
  ])('%s is reported at its place, and no sizes come back', (_what, extra, error) => {
    const { sizes, errors } = rulesOf(`${ISO}${extra}`);
    expect(errors).toEqual([error]);
    expect(sizes).toBeUndefined();
  });

  test('swap that leaves too little disk is an error, and no sizes come back', () => {
    const { sizes, errors } = rulesOf(ISO.replace('4G', '1G') + '  swap: 1000M\n');
    expect(errors).toEqual([
      '6:9 `install.swap`: leaves less than 64 MiB of the 1 GiB disk for the root file system',
    ]);
    expect(sizes).toBeUndefined();
  });

  test('a store address that is no S3 address is reported at its place', () => {
    const { errors } = rulesOf(`${ISO}store: { url: 's3://Bad_Bucket/x' }\n`);
    expect(errors).toEqual([
      "6:15 `store.url`: 'Bad_Bucket' is not a valid S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-'), in 's3://Bad_Bucket/x'",
    ]);
  });

  test('a disk size the schema refused leaves no sizes (never a silent 0)', () => {
    const { sizes, errors } = rulesOf(ISO.replace('4G', '4 gigs'));
    expect(errors).toHaveLength(1);
    expect(sizes).toBeUndefined();
  });
});
