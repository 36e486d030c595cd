// Types of eslint.config.js, for test/unit/docs/layering.test.ts.
import type { Linter } from 'eslint';

declare const config: Linter.Config[];
export default config;
