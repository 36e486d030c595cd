// The layering of src/: which folder may import which (STYLE.md §1). Each folder lists the
// folders it may import; an import of any other src/ folder is a lint error. Used by
// eslint.config.js and by test/unit/docs/layering.test.ts (which proves the rule bites).
//
//   cli ──> everything below
//   store ──> run, cloud, local-cloud, core (implements run/store.ts; cli picks one)
//   steps ──> vm, guest, plan, recipe, tools, bundle, cloud, local-cloud, core
//   run ──> plan, tools, core        local-cloud ──> cloud, bundle, tools, core
//   vm ──> plan, guest, tools, core  cloud ──> bundle, core
//   plan ──> recipe, guest, tools, core
//   recipe ──> guest, core           bundle ──> tools, core      tools ──> core
//   guest ──> core                   core ──> (nothing)

/** @type {Record<string, readonly string[]>} */
export const LAYERS = {
  core: [],
  recipe: ['guest', 'core'],
  tools: ['core'],
  guest: ['core'],
  plan: ['recipe', 'guest', 'tools', 'core'],
  run: ['plan', 'tools', 'core'],
  bundle: ['tools', 'core'],
  cloud: ['bundle', 'core'],
  'local-cloud': ['cloud', 'bundle', 'tools', 'core'],
  vm: ['plan', 'guest', 'tools', 'core'],
  steps: ['vm', 'guest', 'plan', 'recipe', 'tools', 'bundle', 'cloud', 'local-cloud', 'core'],
  store: ['run', 'cloud', 'local-cloud', 'core'],
  cli: [
    'store',
    'steps',
    'vm',
    'guest',
    'run',
    'plan',
    'recipe',
    'tools',
    'bundle',
    'cloud',
    'local-cloud',
    'core',
  ],
};

/** ESLint flat-config entries: one `no-restricted-imports` rule per folder of src/. */
export function layerConfigs() {
  const folders = Object.keys(LAYERS);
  return folders.map((folder) => {
    const allowed = new Set([folder, ...LAYERS[folder]]);
    const forbidden = folders.filter((f) => !allowed.has(f));
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports':
          forbidden.length === 0
            ? 'off'
            : [
                'error',
                {
                  patterns: [
                    {
                      regex: `^(\\.\\./)+(${forbidden.join('|')})/`,
                      message: `src/${folder}/ may import only ${[...LAYERS[folder]].map((f) => `src/${f}/`).join(', ') || 'nothing outside itself'} (layering: eslint.layers.config.js, docs/architecture.md).`,
                    },
                  ],
                },
              ],
      },
    };
  });
}
